// `mtown loadtest` reads and writes WebSocket frames itself after the handshake
// (loadtest/src/bot.cpp). mtown's own server never fragments a message or pings a bot in
// a run, so these cases put the real binary against a server written with Beast's
// websocket stream, in this process, that does what any RFC 6455 server may: fragmented
// messages, a ping, a close; and one that breaks the protocol.
#include <catch2/catch.hpp>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "temp_dir.hpp"
#include "test_server.hpp"

using namespace mtown::test;
using nlohmann::json;
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

namespace {

using Session = std::function<void(websocket::stream<tcp::socket>&)>;

// Accepts on 127.0.0.1 until destroyed; a WebSocket upgrade to /ws runs `session` on its
// own thread (subprotocol mtown.v1.json accepted), anything else (the load test's /metrics
// probe) gets a 404.
class ThirdPartyServer {
 public:
  explicit ThirdPartyServer(Session session) : session_(std::move(session)) {
    acceptor_.open(tcp::v4());
    acceptor_.bind({net::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    port = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { accept_loop(); });
  }
  ~ThirdPartyServer() {
    stopping_ = true;
    boost::system::error_code ignored;
    tcp::socket poke(ioc_);
    poke.connect(acceptor_.local_endpoint(), ignored);  // wakes the blocking accept
    accept_thread_.join();
    for (auto& t : sessions_) t.join();
  }

  unsigned short port = 0;

 private:
  void accept_loop() {
    while (true) {
      tcp::socket sock(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(sock, ec);
      if (stopping_ || ec) return;
      sessions_.emplace_back([this, s = std::move(sock)]() mutable { serve(std::move(s)); });
    }
  }
  void serve(tcp::socket sock) {
    boost::system::error_code ec;
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    http::read(sock, buffer, req, ec);
    if (ec) return;
    if (!websocket::is_upgrade(req)) {
      http::response<http::string_body> res{http::status::not_found, 11};
      res.prepare_payload();
      http::write(sock, res, ec);
      return;
    }
    websocket::stream<tcp::socket> ws(std::move(sock));
    ws.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& r) { r.set(http::field::sec_websocket_protocol, "mtown.v1.json"); }));
    ws.accept(req, ec);
    if (!ec) session_(ws);
  }

  Session session_;
  net::io_context ioc_;
  tcp::acceptor acceptor_{ioc_};
  std::thread accept_thread_;
  std::vector<std::thread> sessions_;
  std::atomic<bool> stopping_{false};
};

json run_idle_bot(unsigned short port, const std::string& report_path, double seconds) {
  const auto r = run_mtown({"loadtest", "--url", "ws://127.0.0.1:" + std::to_string(port) + "/ws", "--scenario", "idle",
                            "--bots", "1", "--duration", std::to_string(seconds), "--heartbeat", "0.2",
                            "--report", report_path, "-q"},
                           {}, {}, std::chrono::seconds(60));
  INFO(r.out << r.err);
  REQUIRE((r.exit_code == 0 || r.exit_code == 4));  // 4: thresholds (a disconnect) missed
  std::ifstream in(report_path);
  REQUIRE(in.good());
  return json::parse(in);
}

}  // namespace

TEST_CASE("loadtest frames: fragmented messages, a server ping and a server close", "[loadtest_frames]") {
  TempDir dir;
  std::mutex m;
  std::string pong_payload;
  std::atomic<int> pongs_sent = 0;
  boost::system::error_code close_result = net::error::would_block;
  ThirdPartyServer server([&](websocket::stream<tcp::socket>& ws) {
    ws.control_callback([&](websocket::frame_type kind, beast::string_view payload) {
      if (kind != websocket::frame_type::pong) return;
      std::lock_guard lock(m);
      pong_payload = std::string(payload);
    });
    ws.auto_fragment(true);
    ws.write_buffer_bytes(8);  // Beast's minimum: every message below goes out in 8-byte frames
    std::uint64_t seq = 0;
    auto send = [&](const json& msg) {  // seq first, as mtown writes it (the bot reads it there)
      ws.write(net::buffer("{\"seq\":" + std::to_string(++seq) + "," + msg.dump().substr(1)));
    };
    send({{"type", "welcome"}, {"player_id", "p1"}, {"resume_token", "t"}, {"server", "third-party 1.0"}});
    ws.ping("hi");
    beast::flat_buffer buffer;
    boost::system::error_code ec;
    while (!ec) {  // answers the bot's heartbeats, then says goodbye
      ws.read(buffer, ec);
      if (ec) return;
      const auto msg = json::parse(beast::buffers_to_string(buffer.data()), nullptr, false);
      buffer.clear();
      if (msg.is_object() && msg.value("type", "") == "ping") {
        send({{"type", "pong"}, {"rid", msg["rid"]}});
        if (++pongs_sent == 4) break;
      }
    }
    ws.close(websocket::close_code::going_away, ec);  // returns once the bot's close frame is read
    std::lock_guard lock(m);
    close_result = ec;
  });

  const auto report = run_idle_bot(server.port, dir.path + "/r.json", 3);
  INFO(report.dump(2));
  std::lock_guard lock(m);
  CHECK(pong_payload == "hi");          // the bot answered the ping with its payload
  CHECK_FALSE(close_result);            // and echoed the close frame
  CHECK(pongs_sent == 4);
  CHECK(report["ping_rtt"]["count"].get<int>() >= 3);  // fragmented pongs reassembled and matched
  const auto& errors = report["errors"];
  CHECK(errors["protocol_errors"] == 0);
  CHECK(errors["disconnects"] == 1);  // the server's close, once
  CHECK(errors["by_code"].contains("disconnect: The WebSocket stream was gracefully closed at both endpoints"));
}

TEST_CASE("loadtest frames: a masked frame from the server is a protocol error that cuts the connection",
          "[loadtest_frames]") {
  TempDir dir;
  ThirdPartyServer server([&](websocket::stream<tcp::socket>& ws) {
    // A welcome; at the bot's first heartbeat (the run's window has begun) bytes no server
    // may send: a masked text frame (RFC 6455 5.1).
    ws.write(net::buffer(std::string(R"({"seq":1,"type":"welcome","player_id":"p1","server":"broken"})")));
    beast::flat_buffer buffer;
    boost::system::error_code ec;
    ws.read(buffer, ec);
    const unsigned char masked[] = {0x81, 0x82, 1, 2, 3, 4, 'o' ^ 1, 'k' ^ 2};
    net::write(ws.next_layer(), net::buffer(masked), ec);
    ws.read(buffer, ec);  // until the bot hangs up
  });

  const auto report = run_idle_bot(server.port, dir.path + "/r.json", 1);
  INFO(report.dump(2));
  const auto& errors = report["errors"];
  CHECK(errors["protocol_errors"] == 1);
  CHECK(errors["disconnects"] == 1);
  CHECK(errors["by_code"].contains("protocol: bad frame from the server"));
}
