#include "abuse_support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

#include <catch2/catch.hpp>

#include "mtown/core/auth.hpp"

namespace mtown::test {

RawSocket::RawSocket(int port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw std::runtime_error("raw connect failed");
}

RawSocket::~RawSocket() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawSocket::write(const std::string& bytes) {
  return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
}

std::string RawSocket::read_until(const std::string& needle, std::chrono::milliseconds timeout) {
  std::string out;
  const auto deadline = Clock::now() + timeout;
  while (out.find(needle) == std::string::npos && Clock::now() < deadline) {
    pollfd p{fd_, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (::poll(&p, 1, static_cast<int>(std::max<long long>(1, left))) <= 0) continue;
    char buf[4096];
    const auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

bool RawSocket::wait_closed(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    char buf[4096];
    if (::recv(fd_, buf, sizeof buf, 0) <= 0) return true;
  }
  return false;
}

std::string upgrade_request(const std::string& target, const std::vector<std::string>& headers) {
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                    "Sec-WebSocket-Protocol: mtown.v1.json\r\n";
  for (const auto& h : headers) req += h + "\r\n";
  return req + "\r\n";
}

UpgradeResult try_upgrade(int port, const std::string& target, const std::vector<std::string>& headers) {
  RawSocket s(port);
  REQUIRE(s.write(upgrade_request(target, headers)));
  const auto head = s.read_until("\r\n\r\n", std::chrono::seconds(5));
  UpgradeResult r;
  if (head.size() < 12) return r;
  r.status = std::stoi(head.substr(9, 3));
  if (r.status == 101) return r;
  std::string rest = head.substr(head.find("\r\n\r\n") + 4);
  rest += s.read_until("}\n", std::chrono::seconds(2));
  r.body = json::parse(rest, nullptr, false);
  return r;
}

std::optional<double> metric(int port, const std::string& series) {
  const double v = metric_value(http_get(port, "/metrics").body, series);  // -1: absent (mtown's series are never negative)
  if (v < 0) return std::nullopt;
  return v;
}

Bystander::Bystander(int port) : client(port) {
  client.send({{"type", "create_room"}, {"game", "party"}, {"name", "Bystander"}});
  code = client.expect("room_joined")["room"]["code"];
  client.expect("room_state");
}

void check_unharmed(int port, Bystander& b, const json& rooms_before) {
  // Nothing reached the bystander while the attack ran.
  const auto stray = b.client.try_recv(std::chrono::milliseconds(50));
  CHECK_FALSE(stray.has_value());
  b.client.send({{"type", "chat"}, {"text", "still here"}});
  CHECK(b.client.expect("chat")["text"] == "still here");
  WsClient newcomer(port);
  newcomer.send({{"type", "join_room"}, {"code", b.code}, {"name", "Newcomer"}});
  CHECK(newcomer.expect("room_joined")["room"]["code"] == b.code);
  newcomer.expect("room_state");
  b.client.expect("player_joined");
  b.client.expect("room_state");
  newcomer.send({{"type", "leave_room"}});
  newcomer.expect("room_left");
  b.client.expect("player_left");
  b.client.expect("room_state");
  CHECK(http_get(port, "/api/rooms").body_json() == rooms_before);
}

namespace {
std::vector<std::string> no_database(const std::vector<std::string>& args) {
  std::vector<std::string> all{"--database", "none"};
  all.insert(all.end(), args.begin(), args.end());
  return all;
}
}  // namespace

Scene::Scene(const std::vector<std::string>& args)
    : server(no_database(args)), bystander(server.port()), rooms_before(http_get(server.port(), "/api/rooms").body_json()) {}

core::ServeConfig test_auth_config() {
  core::ServeConfig c;
  c.jwt_secret = "abuse-tests-secret-0123456789abcdef-0123";
  return c;
}

std::vector<std::string> test_auth_args() {
  return {"--database", "none", "--set", "auth.jwt_secret=" + test_auth_config().jwt_secret};
}

std::string token_for(const std::string& player, std::int64_t ttl_s) {
  return core::mint_player_token(test_auth_config(), player, ttl_s, core::epoch_s());
}

}  // namespace mtown::test
