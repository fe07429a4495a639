// Rooms over real sockets: create, join, chat, leave, host handover, listing, lifetime.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "test_server.hpp"
#include "ws_client.hpp"

using namespace mtown::test;

namespace {

using Clients = std::vector<std::unique_ptr<WsClient>>;

// `--database none`, a short shutdown, and `--set` for each of `sets`.
std::vector<std::string> serve_args(const std::vector<std::string>& sets = {}) {
  std::vector<std::string> args{"--database", "none", "--set", "server.shutdown_timeout_ms=500"};
  for (const auto& s : sets) args.insert(args.end(), {"--set", s});
  return args;
}

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}
std::int64_t ms(const json& v) { return v.get<std::int64_t>(); }

bool is_room_code(const std::string& code) {
  return code.size() == 4 && code.find_first_not_of("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") == std::string::npos;
}

json without(json j, std::initializer_list<const char*> keys) {
  for (const auto* k : keys) j.erase(k);
  return j;
}

std::vector<std::string> player_ids(const json& room) {
  std::vector<std::string> ids;
  for (const auto& p : room.at("players")) ids.push_back(p.at("id"));
  return ids;
}

// The host is the first player, the only one flagged is_host, and every player is connected.
void check_host_flags(const json& room) {
  const auto& players = room.at("players");
  REQUIRE_FALSE(players.empty());
  CHECK(room["host"] == players[0]["id"]);
  for (std::size_t i = 0; i < players.size(); ++i) {
    CHECK(players[i]["is_host"] == (i == 0));
    CHECK(players[i]["connected"] == true);
    CHECK(players[i]["ai"] == false);
  }
}

// create_room; checks the reply pair and returns room_joined.
json create(WsClient& c, const std::string& name, json extra = json::object()) {
  json msg{{"type", "create_room"}, {"game", "party"}, {"name", name}};
  msg.update(extra);
  c.send(msg);
  auto joined = c.expect("room_joined");
  CHECK(joined["you"] == c.player_id());
  CHECK(c.expect("room_state")["room"] == joined["room"]);
  return joined;
}

// `joiner` joins `code`; each of `members` (already in the room) sees player_joined then
// room_state. Returns the joiner's room_joined.
json join(WsClient& joiner, const std::string& code, const std::string& name, const Clients& members) {
  joiner.send({{"type", "join_room"}, {"code", code}, {"name", name}});
  auto joined = joiner.expect("room_joined");
  CHECK(joined["you"] == joiner.player_id());
  CHECK(joiner.expect("room_state")["room"] == joined["room"]);
  for (const auto& m : members) {
    auto pj = m->expect("player_joined");
    CHECK(pj["player"]["id"] == joiner.player_id());
    CHECK(pj["player"]["name"] == name);
    CHECK(pj["player"]["is_host"] == false);
    CHECK(m->expect("room_state")["room"] == joined["room"]);
  }
  return joined;
}

// A room of `n` fresh clients (the first created it) with every join message consumed.
std::string fill_room(int port, Clients& clients, int n, json extra = json::object()) {
  clients.push_back(std::make_unique<WsClient>(port));
  const std::string code = create(*clients[0], "p0", std::move(extra))["room"]["code"];
  for (int i = 1; i < n; ++i) {
    auto c = std::make_unique<WsClient>(port);
    join(*c, code, "p" + std::to_string(i), clients);
    clients.push_back(std::move(c));
  }
  return code;
}

// Nothing is queued for `c`, and it stays usable: a ping's pong is the very next message.
void expect_quiet(WsClient& c) {
  c.send({{"type", "ping"}, {"rid", "quiet"}});
  CHECK(c.expect("pong")["rid"] == "quiet");
}

json expect_error(WsClient& c, const std::string& code) {
  auto err = c.expect("error");
  CHECK(err["code"] == code);
  return err;
}

// After `gone` left (or dropped), each remaining member sees player_left, host_changed when
// the host went, then room_state listing the rest in join order.
void expect_departure(const Clients& rest, const std::string& code, const std::string& gone, const std::string& reason,
                      bool host_went) {
  std::vector<std::string> ids;
  for (const auto& m : rest) ids.push_back(m->player_id());
  for (const auto& m : rest) {
    const auto left = m->expect("player_left");
    CHECK(left == json{{"type", "player_left"}, {"seq", left["seq"]}, {"code", code}, {"player_id", gone}, {"reason", reason}});
    if (host_went) CHECK(m->expect("host_changed")["host"] == ids[0]);
    const auto room = m->expect("room_state")["room"];
    CHECK(player_ids(room) == ids);
    check_host_flags(room);
  }
}

std::set<std::string> listed_codes(const json& rooms) {
  std::set<std::string> codes;
  for (const auto& r : rooms) codes.insert(r.at("code").get<std::string>());
  return codes;
}

}  // namespace

TEST_CASE("create_room replies room_joined then room_state for every game, visibility and size", "[rooms]") {
  TestServer server(serve_args({"limits.rooms_per_min=0"}));  // one client creates every kind of room
  WsClient c(server.port());
  int n = 0;
  for (const std::string game : {"arena", "party"}) {
    for (const bool is_public : {true, false}) {
      for (int max_players = 2; max_players <= 8; ++max_players, ++n) {
        const json rid = n % 2 ? json("r-" + std::to_string(n)) : json(n);
        const auto before = now_ms();
        const auto joined = create(c, "Ada", {{"game", game}, {"public", is_public}, {"max_players", max_players}, {"rid", rid}});
        const auto& room = joined["room"];
        CHECK(joined["rid"] == rid);
        CHECK(is_room_code(room["code"].get<std::string>()));
        const json me{{"id", c.player_id()}, {"name", "Ada"}, {"is_host", true}, {"connected", true}, {"ai", false}};
        CHECK(without(room, {"code", "created_at_ms", "expires_at_ms"}) ==
              json{{"game", game}, {"max_players", max_players}, {"public", is_public}, {"status", "waiting"},
                   {"host", c.player_id()}, {"players", json::array({me})}});
        CHECK(ms(room["created_at_ms"]) >= before - 1000);
        CHECK(ms(room["created_at_ms"]) <= now_ms() + 1000);
        CHECK(ms(room["expires_at_ms"]) - ms(room["created_at_ms"]) == 14400 * 1000);
        c.send({{"type", "leave_room"}});
        CHECK(c.expect("room_left")["code"] == room["code"]);
      }
    }
  }
  const auto defaults = create(c, " \x07 Bob\t ");  // max_players 8, public, no rid; the name cleaned
  CHECK_FALSE(defaults.contains("rid"));
  CHECK(defaults["room"]["players"][0]["name"] == "Bob");
  CHECK((defaults["room"]["max_players"] == 8 && defaults["room"]["public"] == true));
}

TEST_CASE("eight players join by code, a ninth is refused with ROOM_FULL", "[rooms]") {
  TestServer server(serve_args());
  Clients members;
  members.push_back(std::make_unique<WsClient>(server.port()));
  const std::string code = create(*members[0], "host", {{"max_players", 8}})["room"]["code"];
  std::vector<std::string> ids{members[0]->player_id()};
  for (int i = 1; i < 8; ++i) {
    auto c = std::make_unique<WsClient>(server.port());
    std::string typed = code;
    if (i == 3) std::transform(typed.begin(), typed.end(), typed.begin(), [](char ch) { return static_cast<char>(std::tolower(ch)); });
    const auto joined = join(*c, typed, "player" + std::to_string(i), members);
    ids.push_back(c->player_id());
    CHECK(joined["room"]["code"] == code);
    CHECK(player_ids(joined["room"]) == ids);
    CHECK(joined["room"]["players"][i]["name"] == "player" + std::to_string(i));
    check_host_flags(joined["room"]);
    members.push_back(std::move(c));
  }
  WsClient ninth(server.port());
  ninth.send({{"type", "join_room"}, {"code", code}, {"name", "late"}, {"rid", "nine"}});
  CHECK(expect_error(ninth, "ROOM_FULL")["rid"] == "nine");
  expect_quiet(ninth);
  // The refused join left the ninth in no room: it may create its own.
  const auto own = create(ninth, "late");
  CHECK(own["room"]["code"] != code);
  for (auto& m : members) CHECK_FALSE(m->try_recv(200ms).has_value());
}

TEST_CASE("chat reaches every member cleaned, trimmed and capped", "[rooms][chat]") {
  TestServer server(serve_args({"limits.chat_max_chars=10"}));
  Clients members;
  const std::string code = fill_room(server.port(), members, 3);
  auto& sender = *members[1];
  REQUIRE(sender.welcome()["limits"]["chat_max_chars"] == 10);
  const auto say = [&](const std::string& text, const std::string& expected) {
    const auto before = now_ms();
    sender.send({{"type", "chat"}, {"text", text}});
    for (auto& m : members) {
      auto chat = m->expect("chat");
      CHECK(chat["code"] == code);
      CHECK(chat["from"] == sender.player_id());
      CHECK(chat["name"] == "p1");
      CHECK(chat["text"] == expected);
      CHECK(ms(chat["ts_ms"]) >= before - 1000);
    }
  };
  say("hi", "hi");
  say("  hi\x07 you\t ", "hi you");
  say("a\x7f" "b\xc2\x85" "c\xc2\x9f", "abc");  // U+007F, U+0085, U+009F
  say("abcdefghijklmnop", "abcdefghij");
  say("abcdefghi jkl", "abcdefghi");                                  // no trailing space after the cut
  const auto repeat = [](const std::string& unit, int n) {
    std::string out;
    while (n-- > 0) out += unit;
    return out;
  };
  say(repeat("\u00e9", 12), repeat("\u00e9", 10));  // capped in code points, not bytes
  say(repeat("\U0001F600", 11), repeat("\U0001F600", 10));
  sender.send({{"type", "chat"}, {"text", "\x01  "}, {"rid", 7}});
  const auto err = expect_error(sender, "BAD_MESSAGE");
  CHECK(err["field"] == "/text");
  CHECK(err["rid"] == 7);
  for (auto& m : members) CHECK_FALSE(m->try_recv(200ms).has_value());
}

TEST_CASE("leave_room and NOT_IN_ROOM", "[rooms]") {
  TestServer server(serve_args());
  Clients members;
  const std::string code = fill_room(server.port(), members, 3);
  auto leaver = std::move(members[1]);
  members.erase(members.begin() + 1);
  leaver->send({{"type", "leave_room"}, {"rid", "bye"}});
  const auto left = leaver->expect("room_left");
  CHECK(left["rid"] == "bye");
  CHECK(left["code"] == code);
  expect_departure(members, code, leaver->player_id(), "left", false);
  WsClient stranger(server.port());
  for (WsClient* c : {leaver.get(), &stranger}) {
    c->send({{"type", "leave_room"}, {"rid", 1}});
    CHECK(expect_error(*c, "NOT_IN_ROOM")["rid"] == 1);
    c->send({{"type", "chat"}, {"text", "anyone?"}, {"rid", 2}});
    CHECK(expect_error(*c, "NOT_IN_ROOM")["rid"] == 2);
  }
  for (auto& m : members) CHECK_FALSE(m->try_recv(200ms).has_value());
}

TEST_CASE("the earliest-joined remaining player becomes host, until one is left", "[rooms]") {
  TestServer server(serve_args());
  Clients members;
  const std::string code = fill_room(server.port(), members, 5);
  const auto leave = [&](std::size_t index) {
    const std::string gone = members[index]->player_id();
    members[index]->send({{"type", "leave_room"}});
    members[index]->expect("room_left");
    members.erase(members.begin() + static_cast<std::ptrdiff_t>(index));
    expect_departure(members, code, gone, "left", index == 0);
  };
  leave(1);  // a non-host first: no host change, and join order still decides later
  while (members.size() > 1) leave(0);
  CHECK_FALSE(members[0]->try_recv(200ms).has_value());
}

TEST_CASE("a dropped connection leaves its room as disconnected when no seat grace is set", "[rooms]") {
  TestServer server(serve_args({"session.seat_grace_s=0"}));  // the grace itself: test_resume.cpp
  Clients members;
  const std::string code = fill_room(server.port(), members, 3);
  for (const std::size_t index : {1, 0}) {  // a player, then the host
    const std::string gone = members[index]->player_id();
    members[index]->drop();
    members.erase(members.begin() + static_cast<std::ptrdiff_t>(index));
    expect_departure(members, code, gone, "disconnected", index == 0);
  }
  CHECK_FALSE(members[0]->try_recv(200ms).has_value());
}

TEST_CASE("list_rooms and GET /api/rooms list public rooms with filters", "[rooms][list]") {
  TestServer server(serve_args());
  Clients full, party, hidden, arena, hidden_arena;
  const auto full_code = fill_room(server.port(), full, 2, {{"max_players", 2}});
  const auto party_code = fill_room(server.port(), party, 1, {{"max_players", 4}});
  const auto hidden_code = fill_room(server.port(), hidden, 1, {{"public", false}});
  const auto arena_code = fill_room(server.port(), arena, 1, {{"game", "arena"}, {"max_players", 3}});
  fill_room(server.port(), hidden_arena, 2, {{"game", "arena"}, {"public", false}, {"max_players", 2}});
  using Codes = std::set<std::string>;
  WsClient lister(server.port());
  const auto ws_list = [&](json filter) {
    filter["type"] = "list_rooms";
    filter["rid"] = "l";
    lister.send(filter);
    const auto reply = lister.expect("room_list");
    CHECK(reply["rid"] == "l");
    return reply["rooms"];
  };
  const auto http_list = [&](const std::string& query) {
    const auto res = http_get(server.port(), "/api/rooms" + query);
    CHECK(res.status == 200);
    CHECK(res.content_type.find("application/json") == 0);
    return res.body_json()["rooms"];
  };
  const auto all = ws_list({});
  CHECK(listed_codes(all) == Codes{full_code, party_code, arena_code});
  CHECK(std::is_sorted(all.begin(), all.end(), [](const json& a, const json& b) { return a["code"] < b["code"]; }));
  CHECK(http_list("") == all);
  const auto full_summary = *std::find_if(all.begin(), all.end(), [&](const json& r) { return r["code"] == full_code; });
  CHECK(full_summary == json{{"code", full_code}, {"game", "party"}, {"players", 2}, {"max_players", 2}, {"status", "waiting"},
                             {"created_at_ms", full_summary["created_at_ms"]}});
  CHECK(listed_codes(ws_list({{"game", "party"}})) == Codes{full_code, party_code});
  CHECK(listed_codes(ws_list({{"has_space", true}})) == Codes{party_code, arena_code});
  CHECK(listed_codes(ws_list({{"has_space", false}})) == Codes{full_code});
  CHECK(listed_codes(ws_list({{"game", "party"}, {"has_space", true}})) == Codes{party_code});
  CHECK(ws_list({{"game", "chess"}}).empty());
  CHECK(listed_codes(http_list("?game=party&has_space=true")) == Codes{party_code});
  CHECK(listed_codes(http_list("?game=party&has_space=false")) == Codes{full_code});
  CHECK(listed_codes(http_list("?game=arena")) == Codes{arena_code});
  CHECK(listed_codes(http_list("?has_space=true")) == Codes{party_code, arena_code});
  CHECK(http_list("?game=chess").empty());
  CHECK(listed_codes(http_list("?game=party")).count(hidden_code) == 0);

  const auto bad = http_get(server.port(), "/api/rooms?has_space=maybe");
  CHECK(bad.status == 400);
  CHECK(bad.content_type.find("application/json") == 0);
  CHECK(bad.body_json().contains("code"));

  // A full room with space again is listed by has_space=true.
  full[1]->send({{"type", "leave_room"}});
  full[1]->expect("room_left");
  full[0]->expect("player_left");
  full[0]->expect("room_state");
  CHECK(listed_codes(http_list("?has_space=true")) == Codes{full_code, party_code, arena_code});
}

TEST_CASE("an empty room closes after rooms.empty_grace_s unless someone joins", "[rooms][lifetime]") {
  TestServer server(serve_args({"rooms.empty_grace_s=1"}));
  WsClient a(server.port()), b(server.port()), c(server.port()), d(server.port());
  const std::string code = create(a, "a")["room"]["code"];
  a.send({{"type", "leave_room"}});
  a.expect("room_left");
  const auto listed = http_get(server.port(), "/api/rooms").body_json()["rooms"];  // in its grace: 0 players
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["code"] == code);
  CHECK(listed[0]["players"] == 0);
  std::this_thread::sleep_for(300ms);
  const auto rejoined = join(b, code, "b", {});
  CHECK(player_ids(rejoined["room"]) == std::vector<std::string>{b.player_id()});
  check_host_flags(rejoined["room"]);
  std::this_thread::sleep_for(1200ms);  // past the first grace: b kept the room open
  join(c, code, "c", {});
  b.expect("player_joined");
  b.expect("room_state");
  for (WsClient* leaver : {&b, &c}) {
    leaver->send({{"type", "leave_room"}});
    leaver->recv_until("room_left");
  }
  std::this_thread::sleep_for(1500ms);
  d.send({{"type", "join_room"}, {"code", code}, {"name", "d"}});
  expect_error(d, "ROOM_NOT_FOUND");
  CHECK(listed_codes(http_get(server.port(), "/api/rooms").body_json()["rooms"]).count(code) == 0);
}

TEST_CASE("expires_at_ms is created_at_ms plus rooms.ttl_s", "[rooms][lifetime]") {
  TestServer server(serve_args({"rooms.ttl_s=10"}));
  WsClient a(server.port());
  const auto room = create(a, "a")["room"];
  CHECK(ms(room["expires_at_ms"]) - ms(room["created_at_ms"]) == 10000);
}

TEST_CASE("a room closes at its TTL: members get room_closed (expired) and the code is gone", "[rooms][lifetime]") {
  TestServer server(serve_args({"rooms.ttl_s=1"}));
  WsClient a(server.port()), b(server.port());
  const std::string code = create(a, "a")["room"]["code"];
  b.send({{"type", "join_room"}, {"code", code}, {"name", "b"}});
  b.expect("room_joined");
  const auto closed = a.recv_until("room_closed", 3000ms);
  CHECK(closed["reason"] == "expired");
  CHECK(closed["code"] == code);
  CHECK(b.recv_until("room_closed", 3000ms)["reason"] == "expired");
  // Both are out of the room: they can create new ones, and the old code is gone.
  b.send({{"type", "join_room"}, {"code", code}, {"name", "b"}});
  expect_error(b, "ROOM_NOT_FOUND");
  CHECK(create(a, "a")["room"]["code"] != "");
}

TEST_CASE("rooms.max_rooms caps open rooms with SERVER_FULL until one closes", "[rooms][lifetime]") {
  TestServer server(serve_args({"rooms.max_rooms=2", "rooms.empty_grace_s=0"}));
  WsClient a(server.port()), b(server.port()), c(server.port());
  const std::string code = create(a, "a")["room"]["code"];
  create(b, "b");
  c.send({{"type", "create_room"}, {"game", "arena"}, {"name", "c"}, {"rid", "full"}});
  CHECK(expect_error(c, "SERVER_FULL")["rid"] == "full");
  a.send({{"type", "leave_room"}});
  a.expect("room_left");
  for (int i = 0; i < 100 && listed_codes(http_get(server.port(), "/api/rooms").body_json()["rooms"]).count(code); ++i)
    std::this_thread::sleep_for(20ms);
  CHECK(create(c, "c", {{"game", "arena"}})["room"]["game"] == "arena");
}

TEST_CASE("ping gets pong; create or join while in a room is ALREADY_IN_ROOM", "[rooms]") {
  TestServer server(serve_args());
  WsClient a(server.port()), b(server.port()), other(server.port());
  for (const json& rid : {json("p"), json(42), json()}) {
    const auto before = now_ms();
    a.send(rid.is_null() ? json{{"type", "ping"}} : json{{"type", "ping"}, {"rid", rid}});
    const auto pong = a.expect("pong");
    CHECK(pong.value("rid", json()) == rid);
    CHECK(ms(pong["server_time_ms"]) >= before - 1000);
    CHECK(ms(pong["server_time_ms"]) <= now_ms() + 1000);
  }
  const std::string code = create(a, "a")["room"]["code"];
  const std::string other_code = create(other, "o")["room"]["code"];
  join(b, code, "b", {});
  a.expect("player_joined");
  a.expect("room_state");
  for (WsClient* c : {&a, &b}) {
    c->send({{"type", "create_room"}, {"game", "arena"}, {"name", "x"}, {"rid", "c"}});
    CHECK(expect_error(*c, "ALREADY_IN_ROOM")["rid"] == "c");
    c->send({{"type", "join_room"}, {"code", other_code}, {"name", "x"}, {"rid", "j"}});
    CHECK(expect_error(*c, "ALREADY_IN_ROOM")["rid"] == "j");
  }
  CHECK_FALSE(other.try_recv(200ms).has_value());
  b.send({{"type", "chat"}, {"text", "still here"}});  // both are still in the first room
  CHECK(a.expect("chat")["from"] == b.player_id());
  CHECK(b.expect("chat")["code"] == code);
}

TEST_CASE("20 rooms of 4 chat concurrently without cross-talk", "[rooms][chat][concurrency]") {
  constexpr int kRooms = 20, kPerRoom = 4, kChats = 10;
  TestServer server(serve_args({"limits.max_connections_per_ip=200"}));  // 80 clients on 127.0.0.1
  std::vector<Clients> rooms(kRooms);
  std::vector<std::string> codes;
  for (auto& r : rooms) codes.push_back(fill_room(server.port(), r, kPerRoom));
  REQUIRE(std::set<std::string>(codes.begin(), codes.end()).size() == kRooms);

  struct Seen {
    std::vector<std::string> lines;  // "from|text" in arrival order
    std::string error;
  };
  const auto text = [](int r, int i, int k) { return "r" + std::to_string(r) + " c" + std::to_string(i) + " #" + std::to_string(k); };
  std::vector<std::vector<Seen>> seen(kRooms, std::vector<Seen>(kPerRoom));
  std::vector<std::thread> threads;
  for (int r = 0; r < kRooms; ++r)
    for (int i = 0; i < kPerRoom; ++i)
      threads.emplace_back([&, r, i] {
        auto& c = *rooms[r][i];
        try {
          for (int k = 0; k < kChats; ++k) c.send({{"type", "chat"}, {"text", text(r, i, k)}});
          for (int k = 0; k < kPerRoom * kChats; ++k) {
            const auto chat = c.expect("chat", 10s);
            if (chat["code"] != codes[r]) throw std::runtime_error("cross-talk: " + chat.dump());
            seen[r][i].lines.push_back(chat["from"].get<std::string>() + "|" + chat["text"].get<std::string>());
          }
        } catch (const std::exception& e) {
          seen[r][i].error = e.what();
        }
      });
  for (auto& t : threads) t.join();

  for (int r = 0; r < kRooms; ++r) {
    for (int i = 0; i < kPerRoom; ++i) {
      INFO("room " << r << " client " << i);
      REQUIRE(seen[r][i].error.empty());
      CHECK(seen[r][i].lines == seen[r][0].lines);  // one order per room
    }
    for (int i = 0; i < kPerRoom; ++i) {  // each sender's chats in the order sent
      std::vector<std::string> mine;
      for (const auto& line : seen[r][0].lines)
        if (line.rfind(rooms[r][i]->player_id() + "|", 0) == 0) mine.push_back(line);
      REQUIRE(mine.size() == kChats);
      for (int k = 0; k < kChats; ++k) CHECK(mine[k] == rooms[r][i]->player_id() + "|" + text(r, i, k));
    }
  }
  for (auto& r : rooms)
    for (auto& c : r) expect_quiet(*c);
}
