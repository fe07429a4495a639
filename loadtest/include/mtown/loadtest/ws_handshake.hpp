// The client's side of the WebSocket opening handshake (RFC 6455 section 4), done with
// Beast's HTTP parser instead of its websocket stream, so that the bytes arriving right
// after the server's 101 (a resume's replay, say) land in the bot's own read buffer and
// the bot can read frames itself from then on (bot.hpp).
#pragma once
#include <string>
#include <string_view>

#include <boost/beast/http.hpp>

namespace mtown::loadtest {

namespace http = boost::beast::http;

struct ClientHandshake {
  // A GET with a fresh Sec-WebSocket-Key, asking for `protocol`.
  ClientHandshake(std::string_view host, std::string_view target, std::string_view protocol);

  http::request<http::empty_body> request;
  std::string key;              // Sec-WebSocket-Key sent
  std::string protocol;         // Sec-WebSocket-Protocol asked for
};

// base64(SHA-1(key + the RFC's GUID)): what the server must answer with.
std::string websocket_accept_for(std::string_view key);

// "" when the response upgrades the connection as asked: 101, Upgrade: websocket,
// Connection: upgrade, the right Sec-WebSocket-Accept, the protocol asked for (or none)
// and no extension. Otherwise what is wrong, for the bot's error count.
std::string check_upgrade_response(const http::response_header<>& res, const ClientHandshake& asked);

}  // namespace mtown::loadtest
