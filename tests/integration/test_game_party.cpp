// The party game over real sockets: a full 8-player game, privacy before the results,
// AI opponents, and "latest answer wins".
#include <catch2/catch.hpp>

#include "game_helpers.hpp"

using namespace mtown::test;
using namespace mtown::test::games;

namespace {

const std::vector<std::string> kNames{"Ann", "Ben", "Cat", "Dan", "Eve", "Fay", "Gus", "Hal"};

// Long timers: every phase must end early because everyone acted.
json long_timers() {
  return {{"rounds", 8}, {"question_ms", 30000}, {"elimination_ms", 30000}, {"voting_ms", 30000}, {"results_ms", 30000}};
}
json short_timers() {
  return {{"rounds", 8}, {"question_ms", 1000}, {"elimination_ms", 1000}, {"voting_ms", 1000}, {"results_ms", 1000}};
}

std::vector<PartyBot*> bot_ptrs(std::vector<PartyBot>& bots) {
  std::vector<PartyBot*> out;
  for (auto& b : bots) out.push_back(&b);
  return out;
}

}  // namespace

TEST_CASE("eight players play a full 8-round party game to the final standings", "[game][party]") {
  const std::string sp = GENERATE("mtown.v1.json", "mtown.v1.msgpack");
  TestServer server(serve_args());
  Clients clients;
  for (int i = 0; i < 8; ++i) clients.push_back(std::make_unique<WsClient>(server.port(), encoding(sp)));
  const auto code = create_room(*clients[0], "party", kNames[0], {{"max_players", 8}});
  for (std::size_t i = 1; i < 8; ++i) join_room(*clients[i], code, kNames[i], ptrs(clients, i));

  std::vector<PartyBot> bots(8);
  for (std::size_t i = 0; i < 8; ++i) {
    bots[i].c = clients[i].get();
    bots[i].name = kNames[i];
    bots[i].host = i == 0;
  }
  clients[0]->send({{"type", "start_game"}, {"options", long_timers()}});
  run_until(bot_ptrs(bots), [&] {
    return std::all_of(bots.begin(), bots.end(), [](const PartyBot& b) { return b.game_over && b.room_status == "completed"; });
  }, std::chrono::seconds(120), "game_over and room_state completed at every client");

  const PartyBot& host = bots[0];
  REQUIRE(host.seats.size() == 8);
  for (std::size_t i = 0; i < 8; ++i) {
    INFO("seat " << i);
    CHECK(host.seats[i]["player_id"] == clients[i]->player_id());
    CHECK(host.seats[i]["name"] == kNames[i]);
    CHECK(host.seats[i]["ai"] == false);
    CHECK_FALSE(host.seats[i].contains("difficulty"));
  }

  for (const auto& b : bots) {
    INFO("client " << b.name);
    CHECK(b.seat == static_cast<int>(&b - bots.data()));
    CHECK(b.game_id == host.game_id);
    // question -> elimination -> voting -> results every round, then the final.
    CHECK(b.phases == expected_phases(8));
    // Every phase ended early because everyone acted (or the host moved on), never at its
    // 30 s timer: game time (ms since the start) between phases stays well below it.
    REQUIRE(b.phase_ticks.size() == b.phases.size());
    for (std::size_t k = 1; k < b.phase_ticks.size(); ++k) CHECK(b.phase_ticks[k] - b.phase_ticks[k - 1] < 20000);
    CHECK(b.errors.empty());
    CHECK(b.unanswered.empty());  // every answer and vote was echoed privately
    CHECK(b.privacy_checked >= 8 * 3 * 8);  // every state and private event before each round's results
    CHECK(b.texts.size() == 8);
    CHECK(b.elimination_votes.size() == 8);
    CHECK(b.final_votes.size() == 8);
    REQUIRE(b.round_scores.size() == 8);
    CHECK(b.round_scores == host.round_scores);  // one broadcast for everyone
    CHECK((*b.game_over)["result"] == (*host.game_over)["result"]);
    CHECK((*b.game_over)["game_id"] == host.game_id);
    // Private answers stay private: while the question is open, nobody sees another's fake.
    for (const auto& st : b.states) {
      if (phase_of(st["snapshot"]) != "question") continue;
      const int r = st["snapshot"]["round"];
      const auto dump = st.dump();
      for (const auto& other : bots)
        if (&other != &b && other.texts.count(r)) CHECK(dump.find(other.texts.at(r)) == std::string::npos);
    }
  }

  std::map<std::string, std::int64_t> totals;
  for (std::size_t r = 0; r < 8; ++r) {
    INFO("round " << r + 1);
    const json& rs = host.round_scores[r];
    CHECK(rs["round"] == r + 1);
    REQUIRE(rs["players"].size() == 8);
    REQUIRE(rs["answers"].size() == 10);  // 8 distinct fakes + correct + robot
    check_round_scores(rs, host.round_snapshots[r], totals);
    for (const auto& b : bots) {
      INFO("client " << b.name);
      const int round = static_cast<int>(r) + 1;
      const auto& p = rs["players"][static_cast<std::size_t>(b.seat)];
      CHECK(p["player_id"] == b.c->player_id());
      CHECK(p["elimination_vote"] == b.elimination_votes.at(round));
      CHECK(p["final_vote"] == b.final_votes.at(round));
      int found = 0;
      for (const auto& a : rs["answers"])
        if (a["text"] == b.texts.at(round)) {
          ++found;
          CHECK(a["kind"] == "player");
          CHECK(a["authors"] == json::array({b.seat}));
        }
      CHECK(found == 1);
    }
  }
  const json& result = (*host.game_over)["result"];
  check_standings(result, totals, 8);
  CHECK(host.snapshot["phase"] == "final");
  CHECK(host.snapshot["result"] == result);
  for (const auto& p : host.snapshot["players"]) CHECK(p["score"] == totals[p["player_id"]]);

  // The finished room is "completed" in listings too; restart_game brings it back to waiting.
  CHECK(room_summary(*clients[1], code)["status"] == "completed");
  clients[0]->send({{"type", "restart_game"}, {"rid", "again"}});
  for (auto& c : clients) {
    auto st = c->expect("room_state");
    CHECK(st["room"]["status"] == "waiting");
    CHECK(st["room"]["players"].size() == 8);
  }
  CHECK(room_summary(*clients[1], code)["status"] == "waiting");
  // A new game can start, with a new id.
  clients[0]->send({{"type", "start_game"}, {"options", long_timers()}});
  for (auto& c : clients) {
    auto started = c->expect("game_started");
    CHECK(started["game_id"] != host.game_id);
    CHECK(started["snapshot"]["round"] == 1);
    for (const auto& p : started["snapshot"]["players"]) CHECK(p["score"] == 0);
    CHECK(c->expect("room_state")["room"]["status"] == "active");
  }
  CHECK(server.stop() == 0);
}

TEST_CASE("party: nothing before the results reveals authorship or the correct/robot answer", "[game][party]") {
  const std::string sp = GENERATE("mtown.v1.json", "mtown.v1.msgpack");
  TestServer server(serve_args());
  Clients clients;
  for (int i = 0; i < 3; ++i) clients.push_back(std::make_unique<WsClient>(server.port(), encoding(sp)));
  const auto code = create_room(*clients[0], "party", kNames[0], {{"max_players", 3}});
  for (std::size_t i = 1; i < 3; ++i) join_room(*clients[i], code, kNames[i], ptrs(clients, i));

  // Every message each client gets, until the round's results arrive.
  std::vector<std::vector<json>> seen(3);
  clients[0]->send({{"type", "start_game"}, {"options", long_timers()}});
  for (std::size_t i = 0; i < 3; ++i) {
    auto started = clients[i]->expect("game_started");
    CHECK_FALSE(started["options"].contains("questions"));
    CHECK(started["options"]["rounds"] == 8);
    seen[i].push_back(started);
    clients[i]->expect("room_state");
  }
  const auto question = seen[0][0]["snapshot"]["question"];
  CHECK(keys_of(question) == std::set<std::string>{"id", "text"});

  const std::vector<std::string> fakes{"Ann's made up answer", "Ben's made up answer", "Cat's made up answer"};
  const auto read_until_phase = [&](std::size_t i, const std::string& phase) {
    for (;;) {
      auto m = clients[i]->recv();
      seen[i].push_back(m);
      if (m["type"] == "state" && phase_of(m["snapshot"]) == phase) return m;
    }
  };
  // Two answer; the third is still writing: neither fake may reach anyone.
  for (std::size_t i = 0; i < 2; ++i)
    clients[i]->send({{"type", "input"}, {"input_seq", 1}, {"data", {{"action", "answer"}, {"text", fakes[i]}}}});
  for (std::size_t i = 0; i < 3; ++i) {
    for (int answered = 0; answered < 2;) {
      auto m = clients[i]->recv();
      seen[i].push_back(m);
      if (m["type"] == "state")
        for (const auto& e : m["events"]) answered += e["event"] == "answered";
    }
  }
  clients[0]->send({{"type", "ping"}});  // flush: Ann's own echo arrives before the pong
  while (true) {
    auto m = clients[0]->recv();
    seen[0].push_back(m);
    if (m["type"] == "pong") break;
  }
  for (std::size_t i = 0; i < 3; ++i)
    for (const auto& m : seen[i]) {
      const auto dump = m.dump();
      for (std::size_t k = 0; k < 2; ++k)
        if (k != i) CHECK(dump.find(fakes[k]) == std::string::npos);
    }
  clients[2]->send({{"type", "input"}, {"input_seq", 1}, {"data", {{"action", "answer"}, {"text", fakes[2]}}}});
  json answers;
  for (std::size_t i = 0; i < 3; ++i) {
    auto st = read_until_phase(i, "elimination");
    for (const auto& e : st["events"])
      if (e["event"] == "answers") answers = e["answers"];
  }
  REQUIRE(answers.size() == 5);
  std::map<std::string, std::string> id_of;
  for (const auto& a : answers) id_of[a["text"]] = a["id"];
  for (const auto& f : fakes) REQUIRE(id_of.count(f));
  // Everyone votes for the next player's fake, in both votes.
  for (std::size_t i = 0; i < 3; ++i)
    clients[i]->send({{"type", "input"}, {"input_seq", 2}, {"data", {{"action", "vote"}, {"answer", id_of[fakes[(i + 1) % 3]]}}}});
  for (std::size_t i = 0; i < 3; ++i) read_until_phase(i, "voting");
  for (std::size_t i = 0; i < 3; ++i) {
    // Ann's fake may be out (Cat voted it; one vote each is a tie, so nothing is).
    clients[i]->send({{"type", "input"}, {"input_seq", 3}, {"data", {{"action", "vote"}, {"answer", id_of[fakes[(i + 1) % 3]]}}}});
  }
  json results;
  for (std::size_t i = 0; i < 3; ++i) results = read_until_phase(i, "results");

  // Before the results: nothing says who wrote what, or which answer is true / the machine's.
  for (std::size_t i = 0; i < 3; ++i) {
    INFO("client " << i);
    for (std::size_t k = 0; k + 1 < seen[i].size(); ++k) {
      const auto& m = seen[i][k];
      if (m["type"] == "state" || m["type"] == "game_event") check_party_privacy(m);
      if (m["type"] == "game_started") check_party_privacy(json{{"type", "state"}, {"events", json::array()}, {"snapshot", m["snapshot"]}});
      if (m["type"] == "game_event" && m["event"]["event"] == "answer_accepted") CHECK(m["event"]["text"] == fakes[i]);
    }
  }
  // The results reveal it all, consistently with what was hidden.
  json rs;
  for (const auto& e : results["events"])
    if (e["event"] == "round_scores") rs = e;
  REQUIRE(rs.is_object());
  for (std::size_t i = 0; i < 3; ++i)
    for (const auto& a : rs["answers"])
      if (a["text"] == fakes[i]) CHECK(a["authors"] == json::array({static_cast<int>(i)}));
  CHECK(results["snapshot"]["last_results"] == rs);
  for (std::size_t i = 0; i < 3; ++i) CHECK(rs["players"][i]["points"] == 500);  // each fooled one other
  CHECK(server.stop() == 0);
}

TEST_CASE("party: one human and three AI opponents finish a full game", "[game][party][ai]") {
  // Both encodings at once, one room each: the AI sets the pace (it acts 3/4 into each
  // phase), so running them side by side halves the time.
  TestServer server(serve_args());
  WsClient json_human(server.port(), encoding("mtown.v1.json"));
  WsClient pack_human(server.port(), encoding("mtown.v1.msgpack"));

  // json room: add_ai three times with different difficulties.
  const auto code_a = create_room(json_human, "party", "Solo", {{"max_players", 4}});
  for (const char* d : {"easy", "medium", "hard"}) {
    json_human.send({{"type", "add_ai"}, {"difficulty", d}, {"rid", d}});
    auto pj = json_human.expect("player_joined");
    CHECK(pj["player"]["ai"] == true);
    CHECK(pj["player"]["is_host"] == false);
    json_human.expect("room_state");
  }
  // msgpack room: ai_fill takes the empty seats when the game starts.
  const auto code_b = create_room(pack_human, "party", "Solo", {{"max_players", 4}, {"ai_fill", "hard"}});
  CHECK(room_summary(pack_human, code_b)["players"] == 1);

  std::vector<PartyBot> bots(2);
  bots[0].c = &json_human;
  bots[1].c = &pack_human;
  for (auto& b : bots) {
    b.name = "Solo";
    b.host = true;
    b.wait_for_ai = true;  // see the AI flags turn true before acting
  }
  json_human.send({{"type", "start_game"}, {"options", short_timers()}});
  pack_human.send({{"type", "start_game"}, {"options", short_timers()}});
  for (int i = 0; i < 3; ++i) {
    CHECK(pack_human.expect("player_joined")["player"]["ai"] == true);
    pack_human.expect("room_state");
  }
  run_until(bot_ptrs(bots), [&] {
    return std::all_of(bots.begin(), bots.end(), [](const PartyBot& b) { return b.game_over && b.room_status == "completed"; });
  }, std::chrono::seconds(120), "both AI games to finish");

  const std::vector<std::vector<std::string>> difficulties{{"easy", "medium", "hard"}, {"hard", "hard", "hard"}};
  for (std::size_t k = 0; k < 2; ++k) {
    const auto& b = bots[k];
    INFO((k == 0 ? "add_ai room (json)" : "ai_fill room (msgpack)"));
    REQUIRE(b.seats.size() == 4);
    CHECK(b.seats[0]["ai"] == false);
    CHECK(b.seats[0]["player_id"] == b.c->player_id());
    CHECK(b.seat == 0);
    for (std::size_t s = 1; s < 4; ++s) {
      CHECK(b.seats[s]["ai"] == true);
      CHECK(b.seats[s]["difficulty"] == difficulties[k][s - 1]);
    }
    CHECK(b.phases == expected_phases(8));
    // Under heavy load the human may miss a 1 s window after the AI acted; allow a little.
    CHECK(b.late_inputs <= 2);
    for (const auto& e : b.errors) CHECK(e["code"] == "WRONG_PHASE");
    for (int s = 1; s < 4; ++s) {
      INFO("AI seat " << s);
      int answered = 0, voted_elim = 0, voted_final = 0;
      for (int r = 1; r <= 8; ++r) {
        answered += b.seen_ai_answered.count(std::to_string(r) + ":question:" + std::to_string(s)) > 0;
        voted_elim += b.seen_ai_voted.count(std::to_string(r) + ":elimination:" + std::to_string(s)) > 0;
        voted_final += b.seen_ai_voted.count(std::to_string(r) + ":voting:" + std::to_string(s)) > 0;
      }
      CHECK(answered >= 6);
      CHECK(voted_elim >= 6);
      CHECK(voted_final >= 6);
    }
    REQUIRE(b.round_scores.size() == 8);
    std::map<std::string, std::int64_t> totals;
    int human_votes = 0;
    for (std::size_t r = 0; r < 8; ++r) {
      const auto& rs = b.round_scores[r];
      check_round_scores(rs, b.round_snapshots[r], totals);
      std::set<int> authors;
      for (const auto& a : rs["answers"])
        for (const auto& s : a["authors"]) authors.insert(s.get<int>());
      for (int s = 1; s < 4; ++s) {
        CHECK(authors.count(s) == 1);  // every AI wrote a fake
        CHECK_FALSE(rs["players"][static_cast<std::size_t>(s)]["elimination_vote"].is_null());
        CHECK_FALSE(rs["players"][static_cast<std::size_t>(s)]["final_vote"].is_null());
      }
      human_votes += !rs["players"][0]["final_vote"].is_null();
    }
    CHECK(human_votes >= 6);
    const auto& result = (*b.game_over)["result"];
    check_standings(result, totals, 4);
    int ai_standings = 0;
    for (const auto& st : result["standings"]) ai_standings += st["ai"].get<bool>();
    CHECK(ai_standings == 3);
  }
  CHECK(code_a != code_b);
  CHECK(server.stop() == 0);
}

TEST_CASE("party: the latest answer wins until the phase closes", "[game][party]") {
  const std::string sp = GENERATE("mtown.v1.json", "mtown.v1.msgpack");
  TestServer server(serve_args());
  Clients clients;
  for (int i = 0; i < 2; ++i) clients.push_back(std::make_unique<WsClient>(server.port(), encoding(sp)));
  const auto code = create_room(*clients[0], "party", "Ann", {{"max_players", 2}});
  join_room(*clients[1], code, "Ben", ptrs(clients, 1));
  std::vector<PartyBot> bots(2);
  for (std::size_t i = 0; i < 2; ++i) {
    bots[i].c = clients[i].get();
    bots[i].name = kNames[i];
    bots[i].host = i == 0;
    bots[i].autoplay = false;
  }
  clients[0]->send({{"type", "start_game"}, {"options", long_timers()}});
  run_until(bot_ptrs(bots), [&] { return bots[0].seat >= 0 && bots[1].seat >= 0; }, std::chrono::seconds(5), "game_started");

  bots[0].answer("my first idea");
  bots[0].answer("my second thought");
  run_until(bot_ptrs(bots), [&] { return bots[0].private_events.size() == 2 && bots[1].states.size() == 2; },
            std::chrono::seconds(5), "both answers to be accepted");
  CHECK(bots[0].private_events[0] == json{{"event", "answer_accepted"}, {"text", "my first idea"}});
  CHECK(bots[0].private_events[1] == json{{"event", "answer_accepted"}, {"text", "my second thought"}});
  CHECK(bots[1].private_events.empty());
  // The public "answered" goes out once; the second answer changes nothing others can see.
  int answered_events = 0;
  for (const auto& st : bots[1].states)
    for (const auto& e : st["events"]) answered_events += e["event"] == "answered";
  CHECK(answered_events == 1);
  CHECK(bots[1].snapshot["phase"] == "question");
  CHECK(bots[1].snapshot["players"][0]["answered"] == true);
  CHECK(bots[1].snapshot["players"][1]["answered"] == false);

  bots[1].answer("something else");
  run_until(bot_ptrs(bots), [&] { return bots[0].phase() == "elimination" && bots[1].phase() == "elimination"; },
            std::chrono::seconds(5), "the elimination phase");
  std::vector<std::string> shown;
  for (const auto& a : bots[1].snapshot["answers"]) shown.push_back(a["text"]);
  json answers_event;
  for (const auto& e : bots[1].states.back()["events"])
    if (e["event"] == "answers") answers_event = e;
  REQUIRE(answers_event.is_object());
  CHECK(answers_event["answers"].size() == 4);
  for (const auto& a : answers_event["answers"]) CHECK(a["text"] != "my first idea");
  CHECK(std::count(shown.begin(), shown.end(), "my second thought") == 1);
  CHECK(std::count(shown.begin(), shown.end(), "my first idea") == 0);
  CHECK(std::count(shown.begin(), shown.end(), "something else") == 1);
  CHECK(shown.size() == 4);
  CHECK(bots[0].errors.empty());
  CHECK(bots[1].errors.empty());
  CHECK(server.stop() == 0);
}
