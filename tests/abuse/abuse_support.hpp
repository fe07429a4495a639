// Helpers of the abuse tests: a raw TCP client (for slow and half-open handshakes and
// upgrades with arbitrary headers), metrics, and the "the server still serves others and
// nothing changed" check run after every case.
#pragma once
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mtown/core/config.hpp"
#include "test_server.hpp"
#include "ws_client.hpp"

namespace mtown::test {

using Clock = std::chrono::steady_clock;

class RawSocket {
 public:
  explicit RawSocket(int port);
  ~RawSocket();
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;
  bool write(const std::string& bytes);  // false once the peer has gone
  // Reads until `needle` is in what was read, the peer closes, or the timeout.
  std::string read_until(const std::string& needle, std::chrono::milliseconds timeout);
  // True when the peer closes (EOF or reset) within the timeout; discards what arrives.
  bool wait_closed(std::chrono::milliseconds timeout);

 private:
  int fd_ = -1;
};

// A WebSocket upgrade request for `target` with extra header lines ("Name: value").
std::string upgrade_request(const std::string& target, const std::vector<std::string>& headers = {});
// The HTTP status of an upgrade, and the response's body (JSON for refusals).
struct UpgradeResult {
  int status = 0;
  json body;
};
UpgradeResult try_upgrade(int port, const std::string& target, const std::vector<std::string>& headers = {});

std::optional<double> metric(int port, const std::string& series);

// A room with one member that must receive nothing while an attack runs elsewhere.
struct Bystander {
  explicit Bystander(int port);
  std::string code;
  WsClient client;
};
// The server still serves others (the bystander chats and hears it, a newcomer joins the
// bystander's room) and the public room list is `rooms_before`.
void check_unharmed(int port, Bystander& b, const json& rooms_before);

// One attack's setting: a server (`--database none` + args), a bystander in a room, and the
// room list before the attack; check() is check_unharmed.
struct Scene {
  explicit Scene(const std::vector<std::string>& args = {});
  void check() { check_unharmed(server.port(), bystander, rooms_before); }
  int port() const { return server.port(); }
  TestServer server;
  Bystander bystander;
  json rooms_before;
};

// The auth settings the tests' servers run with (--set auth.jwt_secret=...).
core::ServeConfig test_auth_config();
std::vector<std::string> test_auth_args();
std::string token_for(const std::string& player, std::int64_t ttl_s = 600);

}  // namespace mtown::test
