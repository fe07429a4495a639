#include <catch2/catch.hpp>

#include "test_server.hpp"
#include "ws_client.hpp"

using namespace mtown::test;

TEST_CASE("a client creates a room and chats with itself, in both encodings", "[smoke]") {
  const std::string subprotocol = GENERATE("mtown.v1.json", "mtown.v1.msgpack");
  TestServer server({"--database", "none"});
  {
    WsClient a(server.port(), {subprotocol});
    REQUIRE(a.negotiated_subprotocol() == subprotocol);
    CHECK(a.welcome()["protocol"] == subprotocol);
    a.send({{"type", "create_room"}, {"game", "party"}, {"name", "Ada"}, {"rid", 1}});
    auto joined = a.expect("room_joined");
    CHECK(joined["rid"] == 1);
    CHECK(joined["room"]["players"].size() == 1);
    a.expect("room_state");
    a.send({{"type", "chat"}, {"text", "hi"}});
    CHECK(a.expect("chat")["text"] == "hi");
    // A frame of the other kind is refused without closing the connection.
    if (a.msgpack()) a.send_text(R"({"type":"ping"})");
    else a.send_binary("\x81\xa4type\xa4ping");
    CHECK(a.expect("error")["code"] == "UNSUPPORTED_FRAME");
    a.send({{"type", "ping"}, {"rid", "p"}});
    CHECK(a.expect("pong")["rid"] == "p");
  }
  CHECK(server.stop() == 0);
}
