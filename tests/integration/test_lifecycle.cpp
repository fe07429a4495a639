// The server's life: graceful shutdown on SIGTERM/SIGINT, startup and structured logs,
// slow consumers, the connection limit and io thread counts.
#include <catch2/catch.hpp>

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "test_server.hpp"
#include "ws_client.hpp"

using namespace mtown::test;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

std::optional<double> metric(int port, const std::string& series) {
  std::istringstream lines(http_get(port, "/metrics").body);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  return std::nullopt;
}

std::vector<json> log_lines(const std::string& log) {
  std::vector<json> out;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    INFO(line);
    out.push_back(json::parse(line));  // every line must be JSON
  }
  return out;
}

bool has_event(const std::vector<json>& lines, const std::string& event) {
  return std::any_of(lines.begin(), lines.end(), [&](const json& l) { return l.value("event", "") == event; });
}

// Creates a party room with `host` and has each of `others` join it; returns the code.
// Broadcasts still unread are skipped later by recv_until. (WsClient::try_recv is not
// used for draining: a read that times out is cancelled, which leaves a Beast stream failed.)
std::string fill_room(WsClient& host, std::vector<WsClient*> others) {
  host.send({{"type", "create_room"}, {"game", "party"}, {"name", "Host"}});
  const std::string code = host.expect("room_joined")["room"]["code"];
  host.expect("room_state");
  int n = 0;
  for (auto* c : others) {
    c->send({{"type", "join_room"}, {"code", code}, {"name", "P" + std::to_string(++n)}});
    CHECK(c->expect("room_joined")["room"]["players"].size() == static_cast<std::size_t>(n + 1));
    CHECK(host.recv_until("room_state")["room"]["players"].size() == static_cast<std::size_t>(n + 1));
  }
  return code;
}

// A raw WebSocket client for the cases WsClient is too polite for.
struct RawWs {
  net::io_context ioc;
  websocket::stream<beast::tcp_stream> ws{ioc};
  websocket::response_type response;

  // Returns the handshake's HTTP status (101 on success).
  int connect(int port, std::optional<int> rcvbuf = std::nullopt) {
    auto& sock = beast::get_lowest_layer(ws).socket();
    sock.open(tcp::v4());
    if (rcvbuf) sock.set_option(net::socket_base::receive_buffer_size(*rcvbuf));
    beast::get_lowest_layer(ws).expires_after(5s);
    beast::get_lowest_layer(ws).connect({net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
    ws.set_option(websocket::stream_base::decorator(
        [](websocket::request_type& req) { req.set(beast::http::field::sec_websocket_protocol, "mtown.v1.json"); }));
    beast::error_code ec;
    ws.handshake(response, "127.0.0.1:" + std::to_string(port), "/ws", ec);
    beast::get_lowest_layer(ws).expires_never();
    return static_cast<int>(response.result_int());
  }
  // One message into `buffer`; false when none arrived before `deadline`.
  bool read_message(beast::flat_buffer& buffer, Clock::time_point deadline, beast::error_code& ec) {
    bool done = false;
    ws.async_read(buffer, [&](beast::error_code e, std::size_t) {
      ec = e;
      done = true;
    });
    ioc.restart();
    ioc.run_until(deadline);
    return done;
  }
  // Reads until the connection ends; returns the close code, 0 for EOF, -1 for another error.
  int read_to_end(std::chrono::milliseconds timeout, std::string& error) {
    beast::flat_buffer buffer;
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      beast::error_code ec;
      if (!read_message(buffer, deadline, ec)) {
        error = "timeout";
        return -1;
      }
      buffer.clear();
      if (!ec) continue;
      error = ec.message();
      if (ec == websocket::error::closed) return ws.reason().code;
      if (ec == net::error::eof || ec == beast::http::error::end_of_stream) return 0;
      // The server cuts a slow consumer's socket when the close handshake cannot drain in
      // time (as it can't when this client has megabytes queued ahead of the close frame).
      if (ec == net::error::connection_reset || ec == net::error::not_connected || ec == net::error::broken_pipe)
        return 1;
      return -1;
    }
  }
};

// Waits for an external server process; returns its exit code, or -1 after the timeout.
int wait_exit(TestServer& server, std::chrono::milliseconds timeout) {
  return wait_until([&] { return !server.running(); }, timeout) ? server.stop() : -1;
}

}  // namespace

TEST_CASE("SIGTERM closes rooms, then each connection with 1001, and exits 0", "[lifecycle][shutdown]") {
  TestServer server({"--database", "none"});
  WsClient a(server.port()), b(server.port()), c(server.port());
  const auto code = fill_room(a, {&b, &c});

  const auto start = Clock::now();
  REQUIRE(::kill(server.pid(), SIGTERM) == 0);
  for (auto* client : {&a, &b, &c}) {
    const auto closed = client->recv_until("room_closed");
    CHECK(closed["code"] == code);
    CHECK(closed["reason"] == "shutdown");
    CHECK(client->wait_closed() == 1001);
    CHECK(client->close_reason() == "server shutting down");
  }
  CHECK(wait_exit(server, 5s) == 0);
  CHECK(Clock::now() - start < 3s);
  const auto lines = log_lines(server.log());
  CHECK(has_event(lines, "shutting_down"));
  CHECK(has_event(lines, "shutdown_complete"));
}

TEST_CASE("SIGINT shuts down gracefully too", "[lifecycle][shutdown]") {
  TestServer server({"--database", "none"});
  WsClient a(server.port());
  fill_room(a, {});
  REQUIRE(::kill(server.pid(), SIGINT) == 0);
  CHECK(a.recv_until("room_closed")["reason"] == "shutdown");
  CHECK(a.wait_closed() == 1001);
  CHECK(wait_exit(server, 5s) == 0);
}

TEST_CASE("a client that ignores the close handshake cannot hold shutdown past its timeout", "[lifecycle][shutdown]") {
  TestServer server({"--database", "none", "--set", "server.shutdown_timeout_ms=500"});
  WsClient deaf(server.port());  // read the welcome, then never read again
  deaf.send({{"type", "create_room"}, {"game", "arena"}, {"name", "Deaf"}});
  std::this_thread::sleep_for(100ms);
  const auto start = Clock::now();
  REQUIRE(::kill(server.pid(), SIGTERM) == 0);
  CHECK(wait_exit(server, 5s) == 0);
  const auto took = Clock::now() - start;
  INFO(std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
  CHECK(took >= 400ms);  // it did wait for the handshake...
  CHECK(took < 3s);      // ...but not past the timeout
}

TEST_CASE("the first log line is `listening` with address and port", "[lifecycle][logs]") {
  TestServer server({"--database", "none"});
  const auto lines = log_lines(server.log());
  REQUIRE_FALSE(lines.empty());
  const auto& first = lines.front();
  CHECK(first["event"] == "listening");
  CHECK(first["port"] == server.port());
  CHECK(first["address"] == "127.0.0.1:" + std::to_string(server.port()));
}

TEST_CASE("logs are JSON lines with ts, level and event when stderr is not a terminal", "[lifecycle][logs]") {
  TestServer server({"--database", "none", "--set", "log.format=auto"});
  {
    WsClient a(server.port());
    fill_room(a, {});
  }
  CHECK(server.stop() == 0);
  const auto lines = log_lines(server.log());
  REQUIRE(lines.size() >= 3);
  for (const auto& l : lines) {
    INFO(l.dump());
    CHECK(l["ts"].is_string());
    CHECK(l["level"].is_string());
    CHECK(l["event"].is_string());
  }
  CHECK(has_event(lines, "room_created"));
}

TEST_CASE("--log-level warn suppresses info events", "[lifecycle][logs]") {
  // TestServer waits for the (info) `listening` line, so this one is started by hand.
  std::string dir = (std::filesystem::temp_directory_path() / "mtown-warn-XXXXXX").string();
  REQUIRE(::mkdtemp(dir.data()));
  int port = 0;
  {
    net::io_context ioc;
    tcp::acceptor probe(ioc, {net::ip::make_address("127.0.0.1"), 0});
    port = probe.local_endpoint().port();
  }
  const std::string bin = mtown_binary(), log_path = dir + "/server.log";
  const std::vector<std::string> args{bin, "serve", "--dev", "--port", std::to_string(port), "--database", "none",
                                      "--log-format", "json", "--log-level", "warn"};
  const pid_t pid = spawn(args, {}, dir, dir + "/server.out", log_path);
  const bool up = wait_until(
      [&] {
        try {
          return http_get(port, "/health/live").status == 200;
        } catch (const std::exception&) {
          return false;
        }
      },
      10s);
  if (up) {
    WsClient a(port);
    fill_room(a, {});
  }
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::ifstream in(log_path);
  const std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove_all(dir);
  INFO(log);
  REQUIRE(up);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  for (const auto& l : log_lines(log)) CHECK(l["level"] != "info");
  CHECK(log.find("room_created") == std::string::npos);
  CHECK(log.find("listening") == std::string::npos);
}

TEST_CASE("a slow consumer is cut off without stalling the room", "[lifecycle][slow]") {
  // Chat and message rate limits off: the flood is the point here.
  TestServer server({"--database", "none", "--set", "limits.write_queue_max_bytes=4096", "--set",
                     "limits.chat_max_chars=500", "--set", "limits.chat_per_min=0", "--set", "limits.messages_per_s=0"});
  const std::string closed_metric = "mtown_ws_closed_total{reason=\"slow_consumer\"}";
  WsClient flooder(server.port());
  flooder.send({{"type", "create_room"}, {"game", "party"}, {"name", "Flood"}});
  const std::string code = flooder.expect("room_joined")["room"]["code"];

  RawWs slow;  // joins, then never reads; a small receive buffer makes it fall behind sooner
  REQUIRE(slow.connect(server.port(), 4096) == 101);
  slow.ws.text(true);
  slow.ws.write(net::buffer(json{{"type", "join_room"}, {"code", code}, {"name", "Slow"}}.dump()));
  CHECK(flooder.recv_until("player_joined")["player"]["name"] == "Slow");

  // The kernel buffers megabytes on loopback before the server's queue even starts to
  // fill, so flood until the server gives up on the slow client, and a little beyond. Bursts
  // of 4 chats (~2.3 KB) stay under the flooder's own 4096-byte queue bound; each burst's
  // echoes must come back promptly.
  auto worst = Clock::duration::zero();
  constexpr int kBurst = 4;
  int sent_total = 0, cut_at = -1;
  const std::string padding(490, 'x');  // chat text is at most 500 characters
  while (sent_total < 30000 && (cut_at < 0 || sent_total < cut_at + 400)) {
    const auto sent = Clock::now();
    for (int i = 0; i < kBurst; ++i)
      flooder.send({{"type", "chat"}, {"text", std::to_string(sent_total + i) + padding}});
    for (int i = 0; i < kBurst; ++i) {
      INFO("chat " << sent_total + i << ", cut after " << cut_at);
      auto msg = flooder.recv(2s);
      while (msg["type"] != "chat") {  // player_left/room_state once the slow one goes; never an error
        REQUIRE(msg["type"] != "error");
        msg = flooder.recv(2s);
      }
      REQUIRE(msg["text"] == std::to_string(sent_total + i) + padding);
    }
    worst = std::max(worst, Clock::now() - sent);
    sent_total += kBurst;
    if (cut_at < 0 && sent_total % 200 == 0 && metric(server.port(), closed_metric).value_or(0) > 0) cut_at = sent_total;
  }
  INFO("sent " << sent_total << " chats, slow client cut after " << cut_at << ", slowest burst "
               << std::chrono::duration_cast<std::chrono::milliseconds>(worst).count() << " ms");
  CHECK(cut_at >= 0);
  CHECK(worst < 1s);

  std::string error;
  const int end = slow.read_to_end(20s, error);
  INFO("slow client ended with " << error);
  CHECK((end == 4008 || end == 0 || end == 1));  // closed with 4008, or cut
  CHECK(metric(server.port(), closed_metric) == 1.0);  // counted once, not per dropped message
  CHECK(wait_until([&] { return metric(server.port(), "mtown_ws_connections") == 1.0; }, 5s));
  CHECK(wait_until([&] { return metric(server.port(), "mtown_send_queue_bytes") == 0.0; }, 2s));

  // The server and the flooder carry on.
  CHECK(http_get(server.port(), "/health/live").status == 200);
  flooder.send({{"type", "chat"}, {"text", "still here"}});
  CHECK(flooder.recv_until("chat")["text"] == "still here");
  WsClient late(server.port());
  late.send({{"type", "ping"}, {"rid", 7}});
  CHECK(late.expect("pong")["rid"] == 7);
}

namespace {

// Chats "N" + padding from `flooder` (reading each back) until the server has seen a send
// stall, and 200 more; returns how many were sent.
int chat_until_stalled(WsClient& flooder, int port, const std::string& padding) {
  int sent = 0, stalled_at = -1;
  while (sent < 30000 && (stalled_at < 0 || sent < stalled_at + 200)) {
    for (int i = 0; i < 4; ++i) flooder.send({{"type", "chat"}, {"text", std::to_string(sent + i) + padding}});
    for (int i = 0; i < 4; ++i) REQUIRE(flooder.recv_until("chat", 2s)["text"] == std::to_string(sent + i) + padding);
    sent += 4;
    if (stalled_at < 0 && sent % 100 == 0 && metric(port, "mtown_ws_send_stalls_total").value_or(0) > 0)
      stalled_at = sent;
  }
  INFO("sent " << sent << " chats; the first stall was seen after " << stalled_at);
  REQUIRE(stalled_at >= 0);
  return sent;
}

}  // namespace

TEST_CASE("a reader that stalls gets every message whole and in order once it reads again", "[lifecycle][slow]") {
  // Past what the socket takes at once, the server finishes a frame in the background
  // (part sent, the rest held) or leaves it to Beast; a pong answered meanwhile must not
  // land inside one of those frames.
  TestServer server({"--database", "none", "--set", "limits.chat_max_chars=500", "--set", "limits.chat_per_min=0",
                     "--set", "limits.messages_per_s=0"});
  WsClient flooder(server.port());
  flooder.send({{"type", "create_room"}, {"game", "party"}, {"name", "Flood"}});
  const std::string code = flooder.expect("room_joined")["room"]["code"];
  RawWs stalled;  // joins, then reads nothing until the server's sends to it have stalled
  REQUIRE(stalled.connect(server.port(), 4096) == 101);
  stalled.ws.text(true);
  stalled.ws.write(net::buffer(json{{"type", "join_room"}, {"code", code}, {"name", "Stalled"}}.dump()));
  flooder.recv_until("player_joined");

  const std::string padding(490, 'x');
  const int sent = chat_until_stalled(flooder, server.port(), padding);
  stalled.ws.ping({});  // answered while the stalled reader's frames are still held back

  int pongs = 0;
  stalled.ws.control_callback([&](websocket::frame_type kind, beast::string_view) { pongs += kind == websocket::frame_type::pong; });
  std::uint64_t last_seq = 0;
  int next_chat = 0;
  beast::flat_buffer buffer;
  const auto deadline = Clock::now() + 60s;
  while (next_chat < sent) {
    beast::error_code ec;
    INFO("after seq " << last_seq << ", chat " << next_chat);
    REQUIRE(stalled.read_message(buffer, deadline, ec));
    REQUIRE(!ec);
    const auto msg = json::parse(beast::buffers_to_string(buffer.data()));
    buffer.clear();
    check_server_message(msg);
    REQUIRE(msg["seq"] == last_seq + 1);
    last_seq = msg["seq"];
    if (msg["type"] == "chat") REQUIRE(msg["text"] == std::to_string(next_chat++) + padding);
  }
  // The pong may come after the last chat: ask for replies until it has arrived.
  for (int rid = 1; pongs == 0 && rid <= 50; ++rid) {
    stalled.ws.write(net::buffer(json{{"type", "ping"}, {"rid", rid}}.dump()));
    beast::error_code ec;
    REQUIRE(stalled.read_message(buffer, deadline, ec));
    REQUIRE(!ec);
    const auto msg = json::parse(beast::buffers_to_string(buffer.data()));
    buffer.clear();
    REQUIRE(msg["seq"] == ++last_seq);
  }
  CHECK(pongs == 1);
  CHECK(metric(server.port(), "mtown_ws_closed_total{reason=\"slow_consumer\"}") == 0.0);
  CHECK(wait_until([&] { return metric(server.port(), "mtown_send_queue_bytes") == 0.0; }, 2s));
}

TEST_CASE("an arena player that stalls gets every state whole and in order: batched sends with one io thread",
          "[lifecycle][slow]") {
  // With one io thread a game step's frames go out together (server/send_batch.hpp) while
  // chats and the backlog go their own ways (send_now, Beast's write, the queue). A reader
  // that stalls and catches up must see all of them whole, each once, in seq order. (The
  // socket's send buffer grows to megabytes and wakes the writer with a third of it free,
  // so a batched frame finding the socket full is not forced here; SendBatch's own tests
  // cover the 0-byte result, and batch_sent hands a short frame to send_rest_of, which the
  // chat test above covers.)
  TestServer server({"--database", "none", "--threads", "1", "--set", "limits.chat_max_chars=500", "--set",
                     "limits.chat_per_min=0", "--set", "limits.messages_per_s=0"});
  WsClient host(server.port());
  host.send({{"type", "create_room"}, {"game", "arena"}, {"name", "Host"}, {"max_players", 2}});
  const std::string code = host.expect("room_joined")["room"]["code"];
  RawWs stalled;
  REQUIRE(stalled.connect(server.port(), 4096) == 101);
  stalled.ws.text(true);
  stalled.ws.write(net::buffer(json{{"type", "join_room"}, {"code", code}, {"name", "Stalled"}}.dump()));
  host.recv_until("player_joined");
  host.send({{"type", "start_game"}, {"options", {{"match_seconds", 60}}}});
  host.recv_until("game_started");

  const std::string padding(490, 'x');
  const int sent = chat_until_stalled(host, server.port(), padding);

  std::uint64_t last_seq = 0, last_tick = 0;
  int next_chat = 0, states = 0;
  beast::flat_buffer buffer;
  const auto deadline = Clock::now() + 60s;
  while (next_chat < sent || states < 120) {  // every chat, and states past the backlog
    beast::error_code ec;
    INFO("after seq " << last_seq << ", chat " << next_chat << ", " << states << " states");
    REQUIRE(stalled.read_message(buffer, deadline, ec));
    REQUIRE(!ec);
    const auto msg = json::parse(beast::buffers_to_string(buffer.data()));  // whole frames only
    buffer.clear();
    check_server_message(msg);
    if (last_seq) REQUIRE(msg["seq"] == last_seq + 1);
    last_seq = msg["seq"];
    if (msg["type"] == "chat") REQUIRE(msg["text"] == std::to_string(next_chat++) + padding);
    if (msg["type"] != "state") continue;
    const auto tick = msg["tick"].get<std::uint64_t>();
    if (last_tick) REQUIRE(tick == last_tick + 1);  // every tick's state, once
    last_tick = tick;
    ++states;
  }
  CHECK(metric(server.port(), "mtown_ws_closed_total{reason=\"slow_consumer\"}") == 0.0);
}

TEST_CASE("limits.max_connections refuses the next handshake with 503 until one closes", "[lifecycle][limits]") {
  TestServer server({"--database", "none", "--set", "limits.max_connections=3"});
  auto a = std::make_unique<WsClient>(server.port());
  WsClient b(server.port()), c(server.port());
  {
    RawWs fourth;
    CHECK(fourth.connect(server.port()) == 503);
  }
  a->close();
  a.reset();
  std::unique_ptr<WsClient> d;
  CHECK(wait_until(
      [&] {
        try {
          d = std::make_unique<WsClient>(server.port());
          return true;
        } catch (const std::exception&) {
          return false;
        }
      },
      3s));
  RawWs fifth;
  CHECK(fifth.connect(server.port()) == 503);
  CHECK(metric(server.port(), "mtown_ws_connections") == 3.0);
}

TEST_CASE("the server works with one io thread and with four", "[lifecycle][threads]") {
  const int threads = GENERATE(1, 4);
  TestServer server({"--database", "none", "--threads", std::to_string(threads)});
  CHECK(log_lines(server.log()).front()["threads"] == threads);
  WsClient a(server.port()), b(server.port());
  a.send({{"type", "create_room"}, {"game", "arena"}, {"name", "Ada"}, {"rid", "c"}});
  const std::string code = a.expect("room_joined")["room"]["code"];
  a.expect("room_state");
  b.send({{"type", "join_room"}, {"code", code}, {"name", "Bob"}, {"rid", "j"}});
  CHECK(b.expect("room_joined")["room"]["players"].size() == 2);
  CHECK(a.expect("player_joined")["player"]["name"] == "Bob");
  b.send({{"type", "chat"}, {"text", "hi from " + std::to_string(threads)}});
  CHECK(a.recv_until("chat")["text"] == "hi from " + std::to_string(threads));
  CHECK(b.recv_until("chat")["from"] == b.player_id());
  a.close();
  b.close();
  const auto start = Clock::now();
  CHECK(server.stop() == 0);
  CHECK(Clock::now() - start < 2s);  // no connection left to wait for
}
