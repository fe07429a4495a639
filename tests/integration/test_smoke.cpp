#include <catch2/catch.hpp>

#include "test_server.hpp"
#include "ws_client.hpp"

using namespace mtown::test;

TEST_CASE("a client creates a room and chats with itself", "[smoke]") {
  TestServer server({"--database", "none"});
  WsClient a(server.port());
  REQUIRE(a.negotiated_subprotocol() == "mtown.v1.json");
  a.send({{"type", "create_room"}, {"game", "party"}, {"name", "Ada"}, {"rid", 1}});
  auto joined = a.expect("room_joined");
  CHECK(joined["rid"] == 1);
  CHECK(joined["room"]["players"].size() == 1);
  a.expect("room_state");
  a.send({{"type", "chat"}, {"text", "hi"}});
  CHECK(a.expect("chat")["text"] == "hi");
  CHECK(server.stop() == 0);
}
