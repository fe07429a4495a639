#include "mtown/server/http_session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "mtown/core/log.hpp"
#include "mtown/server/client_gate.hpp"
#include "mtown/server/ws_session.hpp"

namespace mtown::server {
namespace {

constexpr std::uint64_t kMaxBodyBytes = 64 * 1024;
constexpr std::uint32_t kMaxHeaderBytes = 16 * 1024;
constexpr std::string_view kJsonSubprotocol = "mtown.v1.json";
constexpr std::string_view kMsgpackSubprotocol = "mtown.v1.msgpack";

}  // namespace

std::optional<std::string> choose_subprotocol(std::string_view offered) {
  if (offered.empty()) return std::string();
  while (!offered.empty()) {
    const auto comma = offered.find(',');
    auto token = offered.substr(0, comma);
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
    // The client's order is its preference (RFC 6455).
    if (token == kJsonSubprotocol || token == kMsgpackSubprotocol) return std::string(token);
    offered = comma == std::string_view::npos ? "" : offered.substr(comma + 1);
  }
  return std::nullopt;
}

namespace {

std::string client_ip(const net::ip::tcp::socket& socket) {
  beast::error_code ec;
  auto address = socket.remote_endpoint(ec).address();
  if (ec) return "unknown";
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    address = net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6());
  return address.to_string();
}

}  // namespace

HttpSession::HttpSession(net::ip::tcp::socket&& socket, ServerContext& ctx)
    : ip_(client_ip(socket)), stream_(std::move(socket), ctx.tls), ctx_(ctx) {}

void HttpSession::run() {
  if (!stream_.tls())
    return net::dispatch(stream_.get_executor(), beast::bind_front_handler(&HttpSession::do_read, shared_from_this()));
  // The slowloris bound covers the TLS handshake too: a slow client cannot hold a slot.
  stream_.expires_after(std::chrono::milliseconds(ctx_.config.handshake_timeout_ms));
  stream_.tls()->async_handshake(net::ssl::stream_base::server,
                                 beast::bind_front_handler(&HttpSession::on_tls_handshake, shared_from_this()));
}

void HttpSession::on_tls_handshake(beast::error_code ec) {
  if (!ec) return do_read();
  // Plain HTTP on the TLS port, scanners, timeouts: the client learns nothing more.
  core::log_debug("tls_handshake_failed", {{"error", ec.message()}});
  close();
}

void HttpSession::do_read() {
  parser_.emplace();
  parser_->body_limit(kMaxBodyBytes);
  parser_->header_limit(kMaxHeaderBytes);
  // Also the slowloris bound: a request (or upgrade) must arrive whole within it.
  stream_.expires_after(std::chrono::milliseconds(ctx_.config.handshake_timeout_ms));
  http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
}

void HttpSession::on_read(beast::error_code ec, std::size_t) {
  if (ec == http::error::end_of_stream) return close();
  if (ec) {
    if (ec == http::error::body_limit || ec == http::error::header_limit) {
      HttpRequest dummy;
      return send(json_error(dummy, http::status::payload_too_large, "TOO_LARGE", "request too large"), true);
    }
    return close();  // timeouts, resets and garbage: nothing useful to answer
  }
  const auto& req = parser_->get();
  if (boost::beast::websocket::is_upgrade(req)) return upgrade();
  const bool close_after = !req.keep_alive();
  if (route_db_http(req, ctx_, [self = shared_from_this(), close_after](HttpResponse res) {
        net::post(self->stream_.get_executor(), [self, close_after, res = std::move(res)]() mutable {
          self->send(std::move(res), close_after);
        });
      }))
    return;
  send(route_http(req, ctx_, ip_), !req.keep_alive());
}

void HttpSession::upgrade() {
  const auto& req = parser_->get();
  const auto target = req.target();
  const auto path = target.substr(0, target.find('?'));
  if (path != "/ws")
    return send(json_error(req, http::status::not_found, "NOT_FOUND", "WebSocket endpoint is /ws"), true);
  const auto proto = choose_subprotocol(req[http::field::sec_websocket_protocol]);
  if (!proto) {
    ctx_.metrics.connections_refused.inc();
    return send(json_error(req, http::status::bad_request, "UNSUPPORTED_SUBPROTOCOL",
                           "this server speaks mtown.v1.json and mtown.v1.msgpack"), true);
  }
  if (ctx_.shutting_down) {
    ctx_.metrics.connections_refused.inc();
    return send(json_error(req, http::status::service_unavailable, "SHUTTING_DOWN", "the server is shutting down"), true);
  }
  auto admitted = admit_upgrade(req, ctx_, ip_);
  if (auto* refused = std::get_if<HttpResponse>(&admitted)) {
    ctx_.metrics.connections_refused.inc();
    return send(std::move(*refused), true);
  }
  if (ctx_.open_connections.fetch_add(1) >= ctx_.config.max_connections) {
    ctx_.open_connections.fetch_sub(1);
    ctx_.metrics.connections_refused.inc();
    core::log_warn("connection_limit", {{"max_connections", ctx_.config.max_connections}});
    return send(json_error(req, http::status::service_unavailable, "TOO_MANY_CONNECTIONS",
                           "the server holds its maximum number of connections"), true);
  }
  stream_.expires_never();  // the WebSocket stream manages its own timeouts
  std::make_shared<WsSession>(std::move(stream_), ctx_, *proto, std::move(std::get<Admission>(admitted)))
      ->run(parser_->release());
}

void HttpSession::send(HttpResponse res, bool close_after) {
  pending_ = std::make_shared<HttpResponse>(std::move(res));
  if (close_after) pending_->keep_alive(false);
  http::async_write(stream_, *pending_, [self = shared_from_this(), close_after](beast::error_code ec, std::size_t) {
    self->pending_.reset();
    if (ec || close_after) return self->close();
    self->do_read();
  });
}

void HttpSession::close() {
  beast::error_code ignored;
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
  stream_.close();
}

}  // namespace mtown::server
