// One connection to `mtown replay --serve`: the HTTP upgrade at /ws (same subprotocols as
// `mtown serve`), then a watch-only WebSocket session: welcome, the playback's messages,
// pong to ping, and an error for anything else. Runs on the connection's strand; one
// write in flight; the send queue is bounded like the server's (4008 slow consumer).
#pragma once
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "mtown/core/protocol.hpp"
#include "mtown/server/outbound_queue.hpp"
#include "playback.hpp"

namespace mtown::replay {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;

struct WatchLimits {
  std::size_t max_frame_bytes = 65536;
  std::size_t write_queue_max_bytes = 4 << 20;  // docs/replay.md
};

class WatchSession : public Watcher, public std::enable_shared_from_this<WatchSession> {
 public:
  WatchSession(net::ip::tcp::socket&& socket, std::shared_ptr<Playback> playback, const core::ProtocolDecoder& decoder,
               WatchLimits limits);
  void run();
  void deliver(const core::SharedMessage& message) override;
  void shutdown();  // flush, then close with 1001

 private:
  void on_request(beast::error_code ec, std::size_t bytes);
  void refuse(http::status status, std::string_view code, std::string_view message);
  void on_accept(beast::error_code ec);
  void do_read();
  void on_read(beast::error_code ec, std::size_t bytes);
  void handle_frame(std::string_view data);
  void enqueue(const core::SharedMessage& message);
  void do_write();
  void on_write(beast::error_code ec);
  void begin_close(websocket::close_reason reason, bool flush);
  void on_closed();

  websocket::stream<beast::tcp_stream> ws_;
  std::shared_ptr<Playback> playback_;
  const core::ProtocolDecoder& decoder_;
  WatchLimits limits_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  std::shared_ptr<http::response<http::string_body>> response_;
  std::optional<server::OutboundQueue> queue_;
  net::steady_timer close_deadline_;
  bool opened_ = false, writing_ = false, close_pending_ = false, closed_ = false;
  websocket::close_reason close_reason_;
};

}  // namespace mtown::replay
