// Refused game requests over real sockets: each gets its error code, changes nothing,
// and leaves the connection usable (ping/pong).
#include <catch2/catch.hpp>

#include "game_helpers.hpp"

using namespace mtown::test;
using namespace mtown::test::games;

namespace {

json long_timers() {
  return {{"rounds", 8}, {"question_ms", 60000}, {"elimination_ms", 60000}, {"voting_ms", 60000}, {"results_ms", 60000}};
}

json input(std::uint64_t seq, json data) { return {{"type", "input"}, {"input_seq", seq}, {"data", std::move(data)}}; }

// A room of `n` players (`game`), the first one the host; nothing left unread.
std::string make_room(Clients& clients, TestServer& server, const std::string& sp, const std::string& game, int n,
                      json extra = json::object()) {
  for (int i = 0; i < n; ++i) clients.push_back(std::make_unique<WsClient>(server.port(), encoding(sp)));
  extra["max_players"] = extra.value("max_players", 8);
  const auto code = create_room(*clients[0], game, "P0", extra);
  for (int i = 1; i < n; ++i)
    join_room(*clients[static_cast<std::size_t>(i)], code, "P" + std::to_string(i), ptrs(clients, static_cast<std::size_t>(i)));
  return code;
}

// Host starts a party game; every client reads game_started and room_state (active).
json start_party(Clients& clients, const json& options = long_timers()) {
  clients[0]->send({{"type", "start_game"}, {"options", options}});
  json started;
  for (auto& c : clients) {
    started = c->expect("game_started");
    CHECK(c->expect("room_state")["room"]["status"] == "active");
  }
  return started;
}

// Every client answers; returns the elimination-phase state (as the first client saw it).
json answer_all(Clients& clients, const std::vector<std::string>& texts, std::uint64_t seq) {
  for (std::size_t i = 0; i < clients.size(); ++i) clients[i]->send(input(seq, {{"action", "answer"}, {"text", texts[i]}}));
  json elimination;
  for (std::size_t i = 0; i < clients.size(); ++i)
    for (;;) {
      auto m = clients[i]->recv();
      REQUIRE(m["type"] != "error");
      if (m["type"] == "state" && m["snapshot"]["phase"] == "elimination") {
        if (i == 0) elimination = m;
        break;
      }
    }
  return elimination;
}

void all_pong(Clients& clients) {
  for (auto& c : clients) expect_pong_next(*c);
}

}  // namespace

TEST_CASE("start_game, add_ai and restart_game refusals change nothing", "[game][errors]") {
  const std::string sp = GENERATE("mtown.v1.json", "mtown.v1.msgpack");
  TestServer server(serve_args());

  SECTION("alone in a room: NOT_ENOUGH_PLAYERS; restart before any game: GAME_NOT_STARTED") {
    Clients clients;
    const auto code = make_room(clients, server, sp, "party", 1);
    expect_error(*clients[0], {{"type", "start_game"}}, "NOT_ENOUGH_PLAYERS");
    expect_pong_next(*clients[0]);
    expect_error(*clients[0], {{"type", "restart_game"}}, "GAME_NOT_STARTED");
    expect_pong_next(*clients[0]);
    const auto summary = room_summary(*clients[0], code);
    CHECK(summary["status"] == "waiting");
    CHECK(summary["players"] == 1);
    // An arena room alone is refused the same way.
    Clients arena;
    make_room(arena, server, sp, "arena", 1, {{"max_players", 4}});
    expect_error(*arena[0], {{"type", "start_game"}}, "NOT_ENOUGH_PLAYERS");
    expect_pong_next(*arena[0]);
  }

  SECTION("non-host start_game and add_ai: NOT_HOST") {
    Clients clients;
    const auto code = make_room(clients, server, sp, "party", 3);
    expect_error(*clients[1], {{"type", "start_game"}}, "NOT_HOST");
    expect_error(*clients[2], {{"type", "add_ai"}, {"difficulty", "hard"}}, "NOT_HOST");
    all_pong(clients);  // no game_started, no player_joined anywhere
    const auto summary = room_summary(*clients[0], code);
    CHECK(summary["status"] == "waiting");
    CHECK(summary["players"] == 3);
  }

  SECTION("add_ai when full: ROOM_FULL") {
    Clients clients;
    const auto code = make_room(clients, server, sp, "party", 2, {{"max_players", 3}});
    clients[0]->send({{"type", "add_ai"}});
    for (auto& c : clients) {
      auto pj = c->expect("player_joined");
      CHECK(pj["player"]["ai"] == true);
      CHECK(c->expect("room_state")["room"]["players"].size() == 3);
    }
    expect_error(*clients[0], {{"type", "add_ai"}, {"difficulty", "easy"}}, "ROOM_FULL");
    all_pong(clients);
    CHECK(room_summary(*clients[1], code)["players"] == 3);
  }

  SECTION("bad options: BAD_MESSAGE at /options, and the room still waits") {
    Clients clients;
    const auto code = make_room(clients, server, sp, "party", 2);
    for (const json& options : {json{{"rounds", 9}}, json{{"rounds", 8}, {"colour", "red"}}, json{{"question_ms", 10}},
                                json{{"questions", json::array()}}}) {
      INFO("options " << options.dump());
      auto err = expect_error(*clients[0], {{"type", "start_game"}, {"options", options}}, "BAD_MESSAGE");
      CHECK(err["field"] == "/options");
      all_pong(clients);
    }
    CHECK(room_summary(*clients[0], code)["status"] == "waiting");
    // The same room starts fine with good options.
    auto started = start_party(clients, {{"rounds", 12}});
    CHECK(started["options"]["rounds"] == 12);
    CHECK(started["snapshot"]["rounds"] == 12);
  }

  SECTION("bad options in an ai_fill room add no AI players") {
    Clients clients;
    const auto code = make_room(clients, server, sp, "party", 1, {{"max_players", 4}, {"ai_fill", "easy"}});
    auto err = expect_error(*clients[0], {{"type", "start_game"}, {"options", {{"rounds", 9}}}}, "BAD_MESSAGE");
    CHECK(err["field"] == "/options");
    expect_pong_next(*clients[0]);
    CHECK(room_summary(*clients[0], code)["players"] == 1);
  }

  SECTION("arena bad options: BAD_MESSAGE at /options") {
    Clients clients;
    make_room(clients, server, sp, "arena", 2, {{"max_players", 3}});
    for (const json& options : {json{{"tick_hz", 0}}, json{{"match_seconds", 5}}, json{{"speed", 2}}}) {
      INFO("options " << options.dump());
      CHECK(expect_error(*clients[0], {{"type", "start_game"}, {"options", options}}, "BAD_MESSAGE")["field"] == "/options");
      all_pong(clients);
    }
  }

  SECTION("start_game twice and restart while active: GAME_IN_PROGRESS") {
    Clients clients;
    const auto code = make_room(clients, server, sp, "party", 2);
    const auto started = start_party(clients);
    expect_error(*clients[0], {{"type", "start_game"}}, "GAME_IN_PROGRESS");
    expect_error(*clients[0], {{"type", "restart_game"}}, "GAME_IN_PROGRESS");
    expect_error(*clients[0], {{"type", "add_ai"}}, "GAME_IN_PROGRESS");
    all_pong(clients);
    CHECK(room_summary(*clients[1], code)["status"] == "active");
    // The running game is untouched: it still takes answers.
    clients[1]->send(input(1, {{"action", "answer"}, {"text", "still running"}}));
    CHECK(clients[1]->expect("game_event")["event"]["text"] == "still running");
    auto st = clients[1]->expect("state");
    CHECK(st["snapshot"]["round"] == 1);
    CHECK(st["snapshot"]["phase"] == "question");
  }
}

TEST_CASE("game input refusals name the input and change nothing", "[game][errors]") {
  const std::string sp = GENERATE("mtown.v1.json", "mtown.v1.msgpack");
  TestServer server(serve_args());

  SECTION("input outside a room or before the game") {
    WsClient loner(server.port(), encoding(sp));
    auto err = expect_error(loner, input(7, {{"action", "answer"}, {"text", "x"}}), "NOT_IN_ROOM");
    CHECK(err["input_seq"] == 7);
    expect_pong_next(loner);

    Clients clients;
    make_room(clients, server, sp, "party", 2);
    err = expect_error(*clients[1], input(8, {{"action", "answer"}, {"text", "too early"}}), "GAME_NOT_STARTED");
    CHECK(err["input_seq"] == 8);
    all_pong(clients);
    Clients arena;
    make_room(arena, server, sp, "arena", 1, {{"max_players", 2}});
    err = expect_error(*arena[0], input(9, {{"action", "move"}, {"dx", 1000}, {"dy", 0}}), "GAME_NOT_STARTED");
    CHECK(err["input_seq"] == 9);
    expect_pong_next(*arena[0]);
  }

  SECTION("party: bad data, wrong phase, own answer, non-host end_phase, leave as input") {
    Clients clients;
    const auto code = make_room(clients, server, sp, "party", 3);
    start_party(clients);
    const auto bad = [&](std::size_t who, std::uint64_t seq, json data, const std::string& code_expected) {
      auto err = expect_error(*clients[who], input(seq, std::move(data)), code_expected);
      CHECK(err["input_seq"] == seq);
      all_pong(clients);  // no state went out to anyone
      return err;
    };
    bad(0, 11, {{"action", "dance"}}, "BAD_MESSAGE");
    bad(1, 12, {{"action", "answer"}, {"text", std::string(101, 'x')}}, "BAD_MESSAGE");
    bad(1, 13, {{"action", "answer"}, {"text", "ok"}, {"answer", "a1"}}, "BAD_MESSAGE");
    bad(2, 14, {{"action", "answer"}, {"text", "<>"}}, "BAD_MESSAGE");
    bad(2, 15, {{"action", "vote"}, {"answer", "a1"}}, "WRONG_PHASE");
    bad(0, 16, {{"action", "next_round"}}, "WRONG_PHASE");
    bad(1, 17, {{"action", "end_phase"}}, "NOT_HOST");
    bad(1, 18, {{"action", "leave"}}, "BAD_MESSAGE");
    // join_room of a room whose game runs.
    WsClient late(server.port(), encoding(sp));
    expect_error(late, {{"type", "join_room"}, {"code", code}, {"name", "Late"}}, "GAME_IN_PROGRESS");
    expect_pong_next(late);
    all_pong(clients);

    // Still the question phase of round 1, with nobody answered or left.
    auto elim = answer_all(clients, {"fake zero", "fake one", "fake two"}, 20);
    const auto& snap = elim["snapshot"];
    CHECK(snap["round"] == 1);
    for (const auto& p : snap["players"]) CHECK(p["active"] == true);
    std::string own;
    for (const auto& a : snap["answers"])
      if (a["text"] == "fake zero") own = a["id"];
    REQUIRE_FALSE(own.empty());
    all_pong(clients);
  }

  SECTION("party: voting for your own answer is INVALID_INPUT") {
    Clients clients;
    make_room(clients, server, sp, "party", 2);
    start_party(clients);
    auto elim = answer_all(clients, {"mine all mine", "not yours"}, 1);
    std::string own, other;
    for (const auto& a : elim["snapshot"]["answers"]) {
      if (a["text"] == "mine all mine") own = a["id"];
      else if (other.empty()) other = a["id"];
    }
    REQUIRE_FALSE(own.empty());
    auto err = expect_error(*clients[0], input(2, {{"action", "vote"}, {"answer", own}}), "INVALID_INPUT");
    CHECK(err["input_seq"] == 2);
    err = expect_error(*clients[0], input(3, {{"action", "vote"}, {"answer", "a16"}}), "INVALID_INPUT");
    CHECK(err["input_seq"] == 3);
    err = expect_error(*clients[1], input(4, {{"action", "answer"}, {"text", "too late"}}), "WRONG_PHASE");
    CHECK(err["input_seq"] == 4);
    all_pong(clients);
    // A valid vote after the refusals is accepted, and nobody has voted before it.
    clients[0]->send(input(5, {{"action", "vote"}, {"answer", other}}));
    auto accepted = clients[0]->expect("game_event");
    CHECK(accepted["event"]["answer"] == other);
    auto st = clients[0]->expect("state");
    REQUIRE(st["events"].size() == 1);
    CHECK(st["events"][0] == json{{"event", "vote_cast"}, {"seat", 0}, {"kind", "elimination"}});
    CHECK(st["snapshot"]["players"][0]["voted"] == true);
    CHECK(st["snapshot"]["players"][1]["voted"] == false);
  }

  SECTION("arena: data failing validation is BAD_MESSAGE with its input_seq") {
    Clients clients;
    make_room(clients, server, sp, "arena", 2, {{"max_players", 2}});
    for (auto& c : clients) {
      CHECK(c->recv_until("game_started")["tick_hz"] == 60);
    }
    const std::vector<json> bad_data{{{"action", "move"}, {"x", 2000}, {"y", 5}},
                                     {{"action", "move"}, {"dx", 5}},
                                     {{"action", "move"}, {"dx", 5}, {"dy", 5}, {"x", 1}, {"y", 1}},
                                     {{"action", "attack"}, {"x", 1}},
                                     {{"action", "jump"}},
                                     {{"action", "leave"}}};
    std::uint64_t seq = 100;
    for (const auto& data : bad_data) {
      INFO("data " << data.dump());
      clients[0]->send(input(++seq, data));
      // States keep flowing; the refusal is among them.
      auto err = clients[0]->recv_until("error", std::chrono::seconds(2));
      CHECK(err["code"] == "BAD_MESSAGE");
      CHECK(err["input_seq"] == seq);
    }
    // None of them was applied: seat 0 never acknowledged an input.
    clients[0]->send(input(1000, {{"action", "move"}, {"dx", 1000}, {"dy", 0}}));
    for (;;) {
      auto m = clients[0]->recv(std::chrono::seconds(2));
      REQUIRE(m["type"] == "state");
      const auto& players = m["delta"]["players"];
      if (players.contains("0") && players["0"].contains("last_input_seq")) {
        CHECK(players["0"]["last_input_seq"] == 1000);
        break;
      }
    }
  }
}

TEST_CASE("a player leaving mid party game: the others are told and the game still finishes", "[game][errors]") {
  const std::string sp = GENERATE("mtown.v1.json", "mtown.v1.msgpack");
  // Seat 3 (a guest), or seat 0 (the host: next_round passes to the new host).
  const std::size_t leaver = GENERATE(std::size_t{3}, std::size_t{0});
  INFO("leaver seat " << leaver);
  TestServer server(serve_args());
  Clients clients;
  make_room(clients, server, sp, "party", 4);
  std::vector<PartyBot> bots(4);
  std::vector<PartyBot*> stayers;
  for (std::size_t i = 0; i < 4; ++i) {
    bots[i].c = clients[i].get();
    bots[i].name = "P" + std::to_string(i);
    bots[i].host = i == 0;
    if (i != leaver) stayers.push_back(&bots[i]);
  }
  // The leaver plays round 1, then leaves in round 2's question phase before answering,
  // once everyone else has answered: its leaving closes the phase.
  bots[leaver].play_until_round = 1;
  clients[0]->send({{"type", "start_game"}, {"options", long_timers()}});
  std::vector<PartyBot*> all;
  for (auto& b : bots) all.push_back(&b);
  run_until(all, [&] {
    if (bots[leaver].round() != 2) return false;
    int answered = 0;
    for (const auto& p : bots[leaver].snapshot["players"]) answered += p["answered"].get<bool>();
    return answered == 3;
  }, std::chrono::seconds(60), "round 2 with three answers");
  CHECK(bots[leaver].phase() == "question");
  const std::string leaver_id = clients[leaver]->player_id();
  clients[leaver]->send({{"type", "leave_room"}, {"rid", "bye"}});
  const auto left = clients[leaver]->recv_until("room_left");
  CHECK(left["rid"] == "bye");
  expect_pong_next(*clients[leaver]);  // nothing more from the room

  run_until(stayers, [&] {
    return std::all_of(stayers.begin(), stayers.end(), [](const PartyBot* b) { return b->game_over && b->room_status == "completed"; });
  }, std::chrono::seconds(60), "the game to finish without the leaver");

  const std::string new_host = clients[leaver == 0 ? 1 : 0]->player_id();
  for (auto* b : stayers) {
    INFO("client " << b->name);
    CHECK(b->phases == expected_phases(8));
    CHECK(b->errors.empty());
    // player_left (and host_changed when the host left) reached everyone still in the room.
    REQUIRE_FALSE(b->others.empty());
    CHECK(b->others[0]["type"] == "player_left");
    CHECK(b->others[0]["player_id"] == leaver_id);
    CHECK(b->others[0]["reason"] == "left");
    if (leaver == 0) {
      REQUIRE(b->others.size() >= 2);
      CHECK(b->others[1]["type"] == "host_changed");
      CHECK(b->others[1]["host"] == new_host);
    }
    // The game saw the seat leave; it stays in the game as inactive.
    int left_events = 0;
    for (const auto& st : b->states)
      for (const auto& e : st["events"])
        if (e["event"] == "left") {
          ++left_events;
          CHECK(e["seat"] == leaver);
        }
    CHECK(left_events == 1);
    CHECK(b->snapshot["players"][leaver]["active"] == false);
    REQUIRE(b->round_scores.size() == 8);
  }
  const PartyBot& ref = *stayers[0];
  std::map<std::string, std::int64_t> totals;
  for (std::size_t r = 0; r < 8; ++r) {
    INFO("round " << r + 1);
    const auto& rs = ref.round_scores[r];
    // From round 2 on, the leaver's fake is gone: 3 fakes + correct + robot.
    CHECK(rs["answers"].size() == (r == 0 ? 6u : 5u));
    check_round_scores(rs, ref.round_snapshots[r], totals);
    if (r > 0) {
      CHECK(rs["players"][leaver]["points"] == 0);
      CHECK(rs["players"][leaver]["final_vote"].is_null());
    }
  }
  const auto& result = (*ref.game_over)["result"];
  check_standings(result, totals, 4);  // the leaver keeps its place in the standings
  for (auto* b : stayers) CHECK((*b->game_over)["result"] == result);
  CHECK(server.stop() == 0);
}
