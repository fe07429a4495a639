// One HTTP connection: serves requests (keep-alive) until it upgrades to a WebSocket at
// /ws, when it hands its socket to a WsSession. Runs on the connection's strand.
#pragma once
#include <memory>
#include <optional>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "mtown/server/http_routes.hpp"
#include "mtown/server/server_context.hpp"
#include "mtown/server/stream.hpp"

namespace mtown::server {

namespace beast = boost::beast;

// The WebSocket subprotocol to answer with: "" when none was offered, nullopt when none
// we speak (mtown.v1.json, mtown.v1.msgpack) was.
std::optional<std::string> choose_subprotocol(std::string_view offered);

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(net::ip::tcp::socket&& socket, ServerContext& ctx);
  void run();

 private:
  void on_tls_handshake(beast::error_code ec);
  void do_read();
  void on_read(beast::error_code ec, std::size_t bytes);
  void upgrade();
  void send(HttpResponse res, bool close_after);
  void close();

  std::string ip_;  // the client's address, for per-IP limits
  Stream stream_;
  beast::flat_buffer buffer_;
  ServerContext& ctx_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<HttpResponse> pending_;
};

}  // namespace mtown::server
