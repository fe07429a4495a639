#include <catch2/catch.hpp>

#include <functional>
#include <vector>

#include "mtown/loadtest/ws_handshake.hpp"

using namespace mtown::loadtest;

namespace {
http::response_header<> upgrade_for(const ClientHandshake& asked) {
  http::response_header<> res;
  res.result(http::status::switching_protocols);
  res.set(http::field::upgrade, "websocket");
  res.set(http::field::connection, "Upgrade");
  res.set(http::field::sec_websocket_accept, websocket_accept_for(asked.key));
  res.set(http::field::sec_websocket_protocol, asked.protocol);
  return res;
}
}  // namespace

TEST_CASE("the accept key follows RFC 6455's example", "[ws_handshake]") {
  // RFC 6455 section 1.3.
  CHECK(websocket_accept_for("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST_CASE("the handshake request asks for a WebSocket with a fresh key and the protocol", "[ws_handshake]") {
  const ClientHandshake a("127.0.0.1:9000", "/ws?resume=T&last_seq=4", "mtown.v1.msgpack");
  const ClientHandshake b("127.0.0.1:9000", "/ws", "mtown.v1.json");
  CHECK(a.request.method() == http::verb::get);
  CHECK(a.request.target() == "/ws?resume=T&last_seq=4");
  CHECK(a.request[http::field::host] == "127.0.0.1:9000");
  CHECK(a.request[http::field::upgrade] == "websocket");
  CHECK(a.request[http::field::sec_websocket_version] == "13");
  CHECK(a.request[http::field::sec_websocket_protocol] == "mtown.v1.msgpack");
  CHECK(a.request[http::field::sec_websocket_key] == a.key);
  CHECK(a.key.size() == 24);  // 16 random bytes in base64
  CHECK(a.key != b.key);
}

TEST_CASE("an upgrade as asked passes; every way it can be wrong is named", "[ws_handshake]") {
  const ClientHandshake asked("h", "/ws", "mtown.v1.json");
  using Change = std::function<void(http::response_header<>&)>;
  const std::vector<std::pair<Change, std::string>> cases = {
      {[](auto&) {}, ""},
      {[](auto& r) { r.erase(http::field::sec_websocket_protocol); }, ""},  // a server may choose none
      {[](auto& r) { r.set(http::field::connection, "keep-alive, Upgrade"); }, ""},
      {[](auto& r) { r.result(http::status::service_unavailable); }, "status 503 instead of 101"},
      {[](auto& r) { r.set(http::field::upgrade, "h2c"); }, "no Upgrade: websocket"},
      {[](auto& r) { r.set(http::field::connection, "close"); }, "no Connection: upgrade"},
      {[](auto& r) { r.set(http::field::sec_websocket_accept, websocket_accept_for("another key")); },
       "wrong Sec-WebSocket-Accept"},
      {[](auto& r) { r.set(http::field::sec_websocket_protocol, "mtown.v1.msgpack"); },
       "subprotocol mtown.v1.msgpack not asked for"},
      {[](auto& r) { r.set(http::field::sec_websocket_extensions, "permessage-deflate"); },
       "an extension not asked for"},
  };
  for (const auto& [change, expected] : cases) {
    auto res = upgrade_for(asked);
    change(res);
    CHECK(check_upgrade_response(res, asked) == expected);
  }
}
