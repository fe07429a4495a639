// ProtocolDecoder against the real embedded client schemas, and the server-message encoders.
#include <string>
#include <variant>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "mtown/core/protocol.hpp"

using namespace mtown::core;
using nlohmann::json;

namespace {

const ProtocolDecoder& decoder() {
  static const ProtocolDecoder d;
  return d;
}

// The decode error for text; fails the test when the message decoded.
DecodeError decode_error(const std::string& text) {
  auto r = decoder().decode(text);
  if (auto* ok = std::get_if<ClientMessage>(&r)) FAIL("decoded as " << client_type_name(ok->type) << ": " << text);
  return std::get<DecodeError>(std::move(r));
}

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

}  // namespace

TEST_CASE("protocol: every client type decodes from a valid example", "[protocol]") {
  struct Row {
    std::string text;
    ClientType type;
  };
  const Row rows[] = {
      {R"({"type":"create_room","game":"party","name":"Ada"})", ClientType::create_room},
      {R"({"type":"create_room","game":"arena","name":"Ada","max_players":2,"public":false,"rid":"r1"})",
       ClientType::create_room},
      {R"({"type":"create_room","game":"party","name":")" + std::string(32, 'n') + R"(","max_players":8})",
       ClientType::create_room},
      {R"({"type":"create_room","game":"party","name":")" + repeat("\xC3\xA9", 32) + R"("})",
       ClientType::create_room},  // 32 characters, 64 bytes
      {R"({"type":"join_room","code":"KX7P","name":"Bo"})", ClientType::join_room},
      {R"({"type":"join_room","code":"kx7p","name":"Bo","rid":3})", ClientType::join_room},
      {R"({"type":"leave_room"})", ClientType::leave_room},
      {R"({"type":"list_rooms"})", ClientType::list_rooms},
      {R"({"type":"list_rooms","game":"arena","has_space":true})", ClientType::list_rooms},
      {R"({"type":"chat","text":"hi all"})", ClientType::chat},
      {R"({"type":"chat","text":")" + std::string(500, 'x') + R"("})", ClientType::chat},
      {R"({"type":"chat","text":")" + std::string(20, '[') + R"("})", ClientType::chat},  // not nesting
      {R"({"type":"chat","text":"\")" + std::string(20, '{') + R"("})", ClientType::chat},
      {R"({"type":"ping"})", ClientType::ping},
      {R"( {"rid":"x","type":"ping"} )", ClientType::ping},
      {R"({"type":"ping","rid":2.0})", ClientType::ping},  // a whole number is an integer (schema)
  };
  for (const auto& row : rows) {
    INFO(row.text);
    auto r = decoder().decode(row.text);
    const auto* msg = std::get_if<ClientMessage>(&r);
    if (!msg) FAIL("refused: " << std::get<DecodeError>(r).message);
    CHECK(msg->type == row.type);
    CHECK(msg->body == json::parse(row.text));
    CHECK(msg->body["type"] == client_type_name(row.type));
    CHECK(msg->rid == msg->body.value("rid", json(nullptr)));
  }
}

TEST_CASE("protocol: BAD_JSON for what is not one JSON object", "[protocol]") {
  const std::string rows[] = {
      "",
      "not json",
      "{",
      R"({"type":"ping"} x)",
      R"({"type":'ping'})",
      "[]",
      R"([{"type":"ping"}])",
      "42",
      R"("ping")",
      "null",
      "true",
      "{\"type\":\"chat\",\"text\":\"\xC3\x28\"}",          // bad continuation byte
      "{\"type\":\"chat\",\"text\":\"\xC0\xAF\"}",          // overlong
      "{\"type\":\"chat\",\"text\":\"\xED\xA0\x80\"}",      // surrogate
      "{\"type\":\"chat\",\"text\":\"\xF4\x90\x80\x80\"}",  // > U+10FFFF
      R"({"type":"chat","text":"\ud800"})",                 // lone escaped surrogate
      repeat("[", 1000) + repeat("]", 1000),
      repeat("{\"a\":", 1000) + "1" + repeat("}", 1000),
      repeat("[", 100000),
  };
  for (const auto& text : rows) {
    INFO(text.substr(0, 80));
    const DecodeError e = decode_error(text);
    CHECK(e.code == ErrorCode::bad_json);
    CHECK(e.rid.is_null());
    CHECK(e.field.empty());
  }
}

TEST_CASE("protocol: kMaxJsonDepth is the deepest nesting accepted", "[protocol]") {
  // The message object is level 1; a field holding n arrays reaches 1 + n.
  const auto nested = [](int arrays) {
    return R"({"type":"ping","x":)" + repeat("[", arrays) + repeat("]", arrays) + "}";
  };
  const DecodeError at_limit = decode_error(nested(kMaxJsonDepth - 1));
  CHECK(at_limit.code == ErrorCode::bad_message);  // parsed, then refused for the unknown field
  CHECK(at_limit.field == "/x");
  CHECK(decode_error(nested(kMaxJsonDepth)).code == ErrorCode::bad_json);
}

TEST_CASE("protocol: a text nesting too deep is refused as such, valid or not", "[protocol]") {
  const std::string deep = repeat("[", kMaxJsonDepth + 1) + repeat("]", kMaxJsonDepth + 1);
  const std::string too_deep = "JSON nested deeper than " + std::to_string(kMaxJsonDepth);
  const std::string rows[] = {
      deep,                                            // valid JSON
      repeat("[", 5000),                               // never closed
      R"({"type":"ping",,"x":)" + deep + "}",          // invalid before the deep part
      R"({"type":"ping","x":)" + deep + "} trailing",  // invalid after it
      R"({"type":"ping","x":"\"]",)" + deep + "}",     // brackets after an escaped quote in a string
  };
  for (const auto& text : rows) {
    INFO(text.substr(0, 80));
    const DecodeError e = decode_error(text);
    CHECK(e.code == ErrorCode::bad_json);
    CHECK(e.message == too_deep);
  }
  // Brackets inside strings do not count; what is invalid within the limit is just invalid.
  CHECK(decode_error(R"({"type":"ping","x":")" + repeat("[", 40) + R"(",})").message == "not valid JSON");
  CHECK(decode_error(R"({"type":"ping",,"x":)" + repeat("[", kMaxJsonDepth - 1) + "}").message == "not valid JSON");
}

TEST_CASE("protocol: BAD_MESSAGE names the offending field", "[protocol]") {
  const std::string create = R"({"type":"create_room","game":"party","name":"Ada")";
  const std::pair<std::string, std::string> rows[] = {
      {R"({})", "/type"},
      {R"({"rid":1})", "/type"},
      {R"({"type":5})", "/type"},
      {R"({"type":null})", "/type"},
      {R"({"type":["ping"]})", "/type"},
      {R"({"type":"create_room","game":"party"})", "/name"},
      {R"({"type":"create_room","name":"Ada"})", "/game"},
      {create + R"(,"max_players":"8"})", "/max_players"},
      {create + R"(,"max_players":9})", "/max_players"},
      {create + R"(,"max_players":1})", "/max_players"},
      {create + R"(,"max_players":2.5})", "/max_players"},
      {create + R"(,"public":"yes"})", "/public"},
      {create + R"(,"foo":1})", "/foo"},
      {R"({"type":"ping","foo":1})", "/foo"},
      {R"({"type":"ping","seq":1})", "/seq"},
      {R"({"type":"create_room","game":"party","name":")" + std::string(33, 'n') + R"("})", "/name"},
      {R"({"type":"create_room","game":"party","name":""})", "/name"},
      {R"({"type":"create_room","game":"party","name":7})", "/name"},
      {R"({"type":"join_room","code":"0OO1","name":"Bo"})", "/code"},
      {R"({"type":"join_room","code":"ABC","name":"Bo"})", "/code"},
      {R"({"type":"join_room","code":"ABCDE","name":"Bo"})", "/code"},
      {R"({"type":"join_room","code":"AB-C","name":"Bo"})", "/code"},
      {R"({"type":"join_room","code":"IIII","name":"Bo"})", "/code"},
      {R"({"type":"join_room","name":"Bo"})", "/code"},
      {R"({"type":"chat"})", "/text"},
      {R"({"type":"chat","text":""})", "/text"},
      {R"({"type":"chat","text":")" + std::string(501, 'x') + R"("})", "/text"},
      {R"({"type":"list_rooms","has_space":"true"})", "/has_space"},
      {R"({"type":"ping","rid":""})", "/rid"},
      {R"({"type":"ping","rid":1.5})", "/rid"},
      {R"({"type":"ping","rid":true})", "/rid"},
      {R"({"type":"ping","rid":")" + std::string(65, 'r') + R"("})", "/rid"},
  };
  for (const auto& [text, field] : rows) {
    INFO(text);
    const DecodeError e = decode_error(text);
    CHECK(e.code == ErrorCode::bad_message);
    CHECK(e.field == field);
    CHECK_FALSE(e.message.empty());
  }
}

TEST_CASE("protocol: UNKNOWN_TYPE for types the client may not send", "[protocol]") {
  for (const char* text : {R"({"type":"fly"})", R"({"type":"Ping"})", R"({"type":"welcome"})", R"({"type":""})",
                           R"({"type":"fly","anything":[1,2]})"}) {
    INFO(text);
    const DecodeError e = decode_error(text);
    CHECK(e.code == ErrorCode::unknown_type);
    CHECK(e.field == "/type");
  }
}

TEST_CASE("protocol: a well-formed rid is echoed in decode errors", "[protocol]") {
  const std::pair<std::string, json> rows[] = {
      {R"({"type":"fly","rid":"abc"})", "abc"},
      {R"({"type":"fly","rid":7})", 7},
      {R"({"type":"fly","rid":-7})", -7},
      {R"({"type":"fly","rid":2.0})", 2.0},
      {R"({"type":"fly","rid":")" + repeat("\xC3\xA9", 64) + R"("})", repeat("\xC3\xA9", 64)},  // 64 chars
      {R"({"type":"fly","rid":")" + std::string(65, 'r') + R"("})", nullptr},  // malformed: not echoed
      {R"({"type":"fly"})", nullptr},
      {R"({"type":"fly","rid":""})", nullptr},
      {R"({"type":"fly","rid":1.5})", nullptr},
      {R"({"type":"fly","rid":{"a":1}})", nullptr},
      {R"({"type":"fly","rid":null})", nullptr},
      {R"({"rid":"no-type"})", "no-type"},
      {R"({"type":9,"rid":9})", 9},
      {R"({"type":"create_room","rid":"x"})", "x"},
      {R"({"type":"ping","rid":"x","foo":1})", "x"},
  };
  for (const auto& [text, rid] : rows) {
    INFO(text);
    CHECK(decode_error(text).rid == rid);
  }
}

TEST_CASE("protocol: error_code_name and server_type_name match the protocol document", "[protocol]") {
  CHECK(error_code_name(ErrorCode::bad_json) == "BAD_JSON");
  CHECK(error_code_name(ErrorCode::bad_message) == "BAD_MESSAGE");
  CHECK(error_code_name(ErrorCode::unknown_type) == "UNKNOWN_TYPE");
  CHECK(error_code_name(ErrorCode::unsupported_frame) == "UNSUPPORTED_FRAME");
  CHECK(error_code_name(ErrorCode::unknown_game) == "UNKNOWN_GAME");
  CHECK(error_code_name(ErrorCode::room_not_found) == "ROOM_NOT_FOUND");
  CHECK(error_code_name(ErrorCode::room_full) == "ROOM_FULL");
  CHECK(error_code_name(ErrorCode::room_closed) == "ROOM_CLOSED");
  CHECK(error_code_name(ErrorCode::already_in_room) == "ALREADY_IN_ROOM");
  CHECK(error_code_name(ErrorCode::not_in_room) == "NOT_IN_ROOM");
  CHECK(error_code_name(ErrorCode::server_full) == "SERVER_FULL");
  CHECK(error_code_name(ErrorCode::internal) == "INTERNAL");
  CHECK(server_type_name(ServerType::welcome) == "welcome");
  CHECK(server_type_name(ServerType::room_closed) == "room_closed");
  CHECK(server_type_name(ServerType::error) == "error");
}

TEST_CASE("protocol: encode_message and seq_prefix + body_tail", "[protocol]") {
  for (int t = 0; t < static_cast<int>(ServerType::count_); ++t) {
    const auto type = static_cast<ServerType>(t);
    INFO(server_type_name(type));
    const auto msg = encode_message(type, {{"code", "KX7P"}, {"n", 1}});
    CHECK(msg->type == type);
    const json body = json::parse(msg->body);
    CHECK(body == json{{"type", server_type_name(type)}, {"code", "KX7P"}, {"n", 1}});

    const json framed = json::parse(seq_prefix(7) + std::string(body_tail(msg->body)));
    json expected = body;
    expected["seq"] = 7;
    CHECK(framed == expected);
  }
  CHECK(seq_prefix(1) == R"({"seq":1,)");
  CHECK(seq_prefix(18446744073709551615ull) == R"({"seq":18446744073709551615,)");
  CHECK(json::parse(encode_message(ServerType::pong, json::object())->body) == json{{"type", "pong"}});
  CHECK_THROWS_AS(encode_message(ServerType::pong, json::array()), std::invalid_argument);

  // Invalid UTF-8 in a field is replaced, so the frame is still valid JSON.
  const auto chat = encode_message(ServerType::chat, {{"text", "a\xFF" "b"}});
  CHECK(json::parse(chat->body)["text"] == "a\xEF\xBF\xBD" "b");
}

TEST_CASE("protocol: encode_error", "[protocol]") {
  const auto full = encode_error(ErrorCode::room_full, "the room has 2 players", "r\"1", "/code");
  CHECK(full->type == ServerType::error);
  CHECK(full->error == ErrorCode::room_full);
  CHECK(json::parse(full->body) == json{{"type", "error"},
                                        {"code", "ROOM_FULL"},
                                        {"message", "the room has 2 players"},
                                        {"rid", "r\"1"},
                                        {"field", "/code"}});
  const json framed = json::parse(seq_prefix(42) + std::string(body_tail(full->body)));
  CHECK(framed["seq"] == 42);
  CHECK(framed["code"] == "ROOM_FULL");

  const json bare = json::parse(encode_error(ErrorCode::bad_json, "not valid JSON", nullptr)->body);
  CHECK(bare == json{{"type", "error"}, {"code", "BAD_JSON"}, {"message", "not valid JSON"}});
  CHECK(json::parse(encode_error(ErrorCode::internal, "x", 5)->body)["rid"] == 5);

  // A decode error round-trips into an error message with its rid and field.
  const DecodeError e = decode_error(R"({"type":"create_room","game":"party","name":"Ada","max_players":9,"rid":4})");
  const json reply = json::parse(encode_error(e.code, e.message, e.rid, e.field)->body);
  CHECK(reply["code"] == "BAD_MESSAGE");
  CHECK(reply["rid"] == 4);
  CHECK(reply["field"] == "/max_players");
}
