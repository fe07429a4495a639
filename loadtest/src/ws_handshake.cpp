#include "mtown/loadtest/ws_handshake.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/websocket/detail/hybi13.hpp>

namespace mtown::loadtest {

namespace beast = boost::beast;

ClientHandshake::ClientHandshake(std::string_view host, std::string_view target, std::string_view proto)
    : request(http::verb::get, beast::string_view(target.data(), target.size()), 11), protocol(proto) {
  beast::websocket::detail::sec_ws_key_type k;
  beast::websocket::detail::make_sec_ws_key(k);
  key.assign(k.data(), k.size());
  request.set(http::field::host, beast::string_view(host.data(), host.size()));
  request.set(http::field::upgrade, "websocket");
  request.set(http::field::connection, "Upgrade");
  request.set(http::field::sec_websocket_key, key);
  request.set(http::field::sec_websocket_version, "13");
  request.set(http::field::sec_websocket_protocol, protocol);
  request.set(http::field::user_agent, "mtown-loadtest");
}

std::string websocket_accept_for(std::string_view key) {
  beast::websocket::detail::sec_ws_accept_type accept;
  beast::websocket::detail::make_sec_ws_accept(accept, beast::string_view(key.data(), key.size()));
  return std::string(accept.data(), accept.size());
}

std::string check_upgrade_response(const http::response_header<>& res, const ClientHandshake& asked) {
  if (res.result() != http::status::switching_protocols)
    return "status " + std::to_string(res.result_int()) + " instead of 101";
  if (!beast::iequals(res[http::field::upgrade], "websocket")) return "no Upgrade: websocket";
  if (!http::token_list(res[http::field::connection]).exists("upgrade")) return "no Connection: upgrade";
  if (res[http::field::sec_websocket_accept] != websocket_accept_for(asked.key)) return "wrong Sec-WebSocket-Accept";
  const auto proto = res[http::field::sec_websocket_protocol];
  if (!proto.empty() && proto != asked.protocol) return "subprotocol " + std::string(proto) + " not asked for";
  if (!res[http::field::sec_websocket_extensions].empty()) return "an extension not asked for";
  return "";
}

}  // namespace mtown::loadtest
