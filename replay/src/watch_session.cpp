#include "watch_session.hpp"

#include <array>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

#include "mtown/core/config.hpp"
#include "mtown/core/ids.hpp"
#include "mtown/core/log.hpp"
#include "mtown/server/http_session.hpp"

namespace mtown::replay {
namespace {

using core::ErrorCode;
using nlohmann::json;

constexpr auto kRequestTimeout = std::chrono::seconds(30);
constexpr auto kCloseDeadline = std::chrono::seconds(2);

}  // namespace

WatchSession::WatchSession(net::ip::tcp::socket&& socket, std::shared_ptr<Playback> playback,
                           const core::ProtocolDecoder& decoder, WatchLimits limits)
    : ws_(std::move(socket)),
      playback_(std::move(playback)),
      decoder_(decoder),
      limits_(limits),
      close_deadline_(ws_.get_executor()) {}

void WatchSession::run() {
  net::dispatch(ws_.get_executor(), [self = shared_from_this()] {
    beast::get_lowest_layer(self->ws_).expires_after(kRequestTimeout);
    http::async_read(beast::get_lowest_layer(self->ws_), self->buffer_, self->request_,
                     beast::bind_front_handler(&WatchSession::on_request, self));
  });
}

void WatchSession::on_request(beast::error_code ec, std::size_t) {
  if (ec) return on_closed();
  const auto target = request_.target();
  if (!websocket::is_upgrade(request_) || target.substr(0, target.find('?')) != "/ws")
    return refuse(http::status::not_found, "NOT_FOUND", "this is a replay: watch it over a WebSocket at /ws");
  const auto proto = server::choose_subprotocol(request_[http::field::sec_websocket_protocol]);
  if (!proto)
    return refuse(http::status::bad_request, "UNSUPPORTED_SUBPROTOCOL", "this server speaks mtown.v1.json and mtown.v1.msgpack");
  queue_.emplace(limits_.write_queue_max_bytes, *proto == "mtown.v1.msgpack" ? server::Encoding::msgpack : server::Encoding::json);
  beast::get_lowest_layer(ws_).expires_never();
  ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
  ws_.set_option(websocket::stream_base::decorator([p = *proto](websocket::response_type& res) {
    res.set(http::field::server, "mtown/" MTOWN_VERSION);
    if (!p.empty()) res.set(http::field::sec_websocket_protocol, p);
  }));
  ws_.read_message_max(limits_.max_frame_bytes);
  ws_.async_accept(request_, beast::bind_front_handler(&WatchSession::on_accept, shared_from_this()));
}

void WatchSession::refuse(http::status status, std::string_view code, std::string_view message) {
  response_ = std::make_shared<http::response<http::string_body>>(server::json_error(request_, status, code, message));
  response_->keep_alive(false);
  http::async_write(beast::get_lowest_layer(ws_), *response_, [self = shared_from_this()](beast::error_code, std::size_t) {
    self->on_closed();
  });
}

void WatchSession::on_accept(beast::error_code ec) {
  if (ec) return on_closed();
  opened_ = true;
  enqueue(core::encode_message(
      core::ServerType::welcome,
      {{"session_id", core::random_id("s_")},
       {"player_id", core::random_id("w_")},
       // The protocol requires one; a watch session is not resumable (docs/replay.md).
       {"resume_token", core::random_token("r_")},
       {"server", "mtown " MTOWN_VERSION " (replay)"},
       {"protocol", queue_->encoding() == server::Encoding::msgpack ? "mtown.v1.msgpack" : "mtown.v1.json"},
       {"limits", {{"max_frame_bytes", limits_.max_frame_bytes}, {"chat_max_chars", core::ServeConfig{}.chat_max_chars}, {"name_max_chars", 32}}}}));
  playback_->join(shared_from_this());
  do_read();
}

void WatchSession::do_read() {
  ws_.async_read(buffer_, beast::bind_front_handler(&WatchSession::on_read, shared_from_this()));
}

void WatchSession::on_read(beast::error_code ec, std::size_t) {
  if (ec) return on_closed();
  const auto data = buffer_.cdata();
  handle_frame(std::string_view(static_cast<const char*>(data.data()), data.size()));
  buffer_.consume(buffer_.size());
  if (!close_pending_) do_read();
}

// A replay is watch-only: ping is answered, anything else well-formed is refused.
void WatchSession::handle_frame(std::string_view data) {
  const bool binary = queue_->encoding() == server::Encoding::msgpack;
  if (ws_.got_text() == binary)
    return enqueue(core::encode_error(ErrorCode::unsupported_frame,
                                      binary ? "mtown.v1.msgpack takes binary frames" : "mtown.v1.json takes text frames",
                                      nullptr));
  auto result = binary ? decoder_.decode_msgpack(data) : decoder_.decode(data);
  if (auto* bad = std::get_if<core::DecodeError>(&result))
    return enqueue(core::encode_error(bad->code, bad->message, bad->rid, bad->field));
  const auto& msg = std::get<core::ClientMessage>(result);
  if (msg.type == core::ClientType::ping)
    return enqueue(core::encode_message(core::ServerType::pong, core::with_rid({{"server_time_ms", core::epoch_ms()}}, msg.rid)));
  std::optional<std::uint64_t> input_seq;
  if (msg.type == core::ClientType::input && msg.body.contains("input_seq")) input_seq = msg.body["input_seq"].get<std::uint64_t>();
  enqueue(core::encode_error(ErrorCode::not_a_player, "this is a replay: you can watch, not play", msg.rid, {}, input_seq));
}

void WatchSession::deliver(const core::SharedMessage& message) {
  net::post(ws_.get_executor(), [self = shared_from_this(), message] { self->enqueue(message); });
}

void WatchSession::shutdown() {
  net::post(ws_.get_executor(), [self = shared_from_this()] {
    if (self->opened_) self->begin_close({websocket::close_code::going_away, "server shutting down"}, true);
    else self->on_closed();
  });
}

void WatchSession::enqueue(const core::SharedMessage& message) {
  if (!opened_ || closed_ || close_pending_) return;
  if (!queue_->push(message))
    return begin_close({static_cast<websocket::close_code>(4008), "slow consumer"}, /*flush=*/false);
  if (!writing_) do_write();
}

void WatchSession::do_write() {
  const auto& entry = queue_->front();
  const std::array<net::const_buffer, 2> buffers{net::buffer(entry.prefix), net::buffer(entry.tail.data(), entry.tail.size())};
  writing_ = true;
  ws_.binary(queue_->encoding() == server::Encoding::msgpack);
  ws_.async_write(buffers, [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
}

void WatchSession::on_write(beast::error_code ec) {
  writing_ = false;
  queue_->pop();
  if (ec) return on_closed();
  if (!queue_->empty()) return do_write();
  if (close_pending_ && !closed_)
    ws_.async_close(close_reason_, [self = shared_from_this()](beast::error_code) { self->on_closed(); });
}

void WatchSession::begin_close(websocket::close_reason reason, bool flush) {
  if (closed_ || close_pending_) return;
  close_pending_ = true;
  close_reason_ = reason;
  if (!flush)
    while (queue_->size() > (writing_ ? 1u : 0u)) queue_->pop_back();
  // A peer that does not read is cut after the deadline.
  close_deadline_.expires_after(kCloseDeadline);
  close_deadline_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (!ec) self->on_closed();
  });
  if (!writing_)
    ws_.async_close(close_reason_, [self = shared_from_this()](beast::error_code) { self->on_closed(); });
}

void WatchSession::on_closed() {
  if (closed_) return;
  closed_ = true;
  close_deadline_.cancel();
  playback_->leave(this);
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).socket().close(ignored);
}

}  // namespace mtown::replay
