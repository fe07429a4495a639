// Opens N idle WebSocket connections to a running mtown server (loopback only), waits
// for every welcome, and reports the server's resident memory per connection from its
// /metrics (process_resident_memory_bytes) before and after. Then closes everything.
//   idle_connections PORT N [HOLD_SECONDS]
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

namespace {

double server_rss(unsigned short port) {
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(std::chrono::seconds(10));
  stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  http::request<http::empty_body> req{http::verb::get, "/metrics", 11};
  req.set(http::field::host, "127.0.0.1");
  http::write(stream, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(stream, buf, res);
  const std::string key = "\nprocess_resident_memory_bytes ";
  const auto pos = res.body().find(key);
  return pos == std::string::npos ? 0 : std::stod(res.body().substr(pos + key.size()));
}

struct Conn : std::enable_shared_from_this<Conn> {
  websocket::stream<beast::tcp_stream> ws;
  beast::flat_buffer buf;
  int* welcomed;
  int* failed;
  Conn(net::io_context& ioc, int* w, int* f) : ws(ioc), welcomed(w), failed(f) {}

  void start(const tcp::endpoint& ep) {
    beast::get_lowest_layer(ws).expires_after(std::chrono::seconds(30));
    beast::get_lowest_layer(ws).async_connect(ep, [self = shared_from_this(), ep](beast::error_code ec) {
      if (ec) return self->fail();
      beast::get_lowest_layer(self->ws).expires_never();
      self->ws.set_option(websocket::stream_base::decorator(
          [](websocket::request_type& r) { r.set(http::field::sec_websocket_protocol, "mtown.v1.json"); }));
      self->ws.async_handshake("127.0.0.1", "/ws", [self](beast::error_code ec2) {
        if (ec2) return self->fail();
        self->ws.async_read(self->buf, [self](beast::error_code ec3, std::size_t) {
          if (ec3) return self->fail();
          ++*self->welcomed;
          self->buf.consume(self->buf.size());
          self->hold();
        });
      });
    });
  }
  void hold() {  // keep a read pending so pings are answered; anything else is unexpected
    ws.async_read(buf, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (!ec) {
        self->buf.consume(self->buf.size());
        self->hold();
      }
    });
  }
  void fail() { ++*failed; }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: idle_connections PORT N [HOLD_SECONDS]\n");
    return 2;
  }
  const auto port = static_cast<unsigned short>(std::stoi(argv[1]));
  const int n = std::stoi(argv[2]);
  const int hold_s = argc > 3 ? std::stoi(argv[3]) : 2;
  const tcp::endpoint ep(net::ip::make_address("127.0.0.1"), port);

  const double before = server_rss(port);
  net::io_context ioc;
  int welcomed = 0, failed = 0;
  std::vector<std::shared_ptr<Conn>> conns;
  const auto start = std::chrono::steady_clock::now();
  constexpr int kInFlight = 256;  // stay well under the listen backlog
  for (int i = 0; i < n; ++i) {
    while (i - welcomed - failed >= kInFlight) ioc.run_one();
    conns.push_back(std::make_shared<Conn>(ioc, &welcomed, &failed));
    conns.back()->start(ep);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (welcomed + failed < n && std::chrono::steady_clock::now() < deadline)
    ioc.run_for(std::chrono::milliseconds(50));
  const double connect_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto hold_until = std::chrono::steady_clock::now() + std::chrono::seconds(hold_s);
  while (std::chrono::steady_clock::now() < hold_until) ioc.run_for(std::chrono::milliseconds(100));
  const double after = server_rss(port);

  nlohmann::json report{{"connections", welcomed},
                        {"failed", failed},
                        {"connect_seconds", connect_s},
                        {"server_rss_before_bytes", before},
                        {"server_rss_after_bytes", after},
                        {"bytes_per_connection", welcomed ? (after - before) / welcomed : 0}};
  std::cout << report.dump(2) << std::endl;
  for (auto& c : conns) {
    beast::error_code ignored;
    beast::get_lowest_layer(c->ws).socket().close(ignored);
  }
  return failed == 0 && welcomed == n ? 0 : 1;
}
