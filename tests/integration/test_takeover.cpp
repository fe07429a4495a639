// A room created with `ai_takeover`: when a dropped player's seat grace (1 s here) runs out
// in a running game, an AI takes the seat (same player id and score) and the room lists it
// as AI; the recording of that game, takeover included, replays verified with `mtown replay`.
#include <catch2/catch.hpp>

#include <filesystem>
#include <thread>

#include "game_helpers.hpp"
#include "temp_dir.hpp"

using namespace mtown::test;
using namespace mtown::test::games;

namespace {

std::vector<std::string> takeover_args() {
  auto args = serve_args();
  // The recording goes to DIR/rec (the server runs in its temp dir).
  args.insert(args.end(), {"--set", "session.seat_grace_s=1", "--set", "recording.mtrec_dir=rec"});
  return args;
}

const json* player_in(const json& room_state, const std::string& id) {
  for (const auto& p : room_state["room"]["players"])
    if (p["id"] == id) return &p;
  return nullptr;
}

// Reads `c` until a room_state lists `id` as AI, checking that the seat was never released.
json until_taken_over(WsClient& c, const std::string& id) {
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    const auto msg = c.recv(std::chrono::seconds(10));
    INFO(msg.dump());
    REQUIRE(msg["type"] != "player_left");
    if (msg["type"] != "room_state") continue;
    const json* p = player_in(msg, id);
    REQUIRE(p != nullptr);
    if ((*p)["ai"] == true) return msg;
  }
  FAIL("no room_state showed " << id << " as AI");
  return {};
}

// `mtown replay FILE --timeline --json` must verify the game, takeover included.
void check_replay_verified(const std::string& file, const json& game_over_result) {
  const auto r = run_mtown({"replay", file, "--timeline", "--json"});
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.exit_code == 0);
  const auto report = json::parse(r.out, nullptr, false);
  REQUIRE(report.is_object());
  CHECK(report["verified"] == true);
  CHECK(report["status"] == "completed");
  CHECK(report["result"] == game_over_result);
  int takeovers = 0;
  for (const auto& e : report["timeline"]) takeovers += e["kind"] == "takeover";
  CHECK(takeovers == 1);
}

}  // namespace

TEST_CASE("arena ai_takeover: the dropped player's seat plays on as AI and the game replays verified",
          "[takeover][arena]") {
  TestServer server(takeover_args());
  WsClient a(server.port()), b(server.port());
  const auto code = create_room(a, "arena", "Ada", {{"max_players", 3}, {"ai_takeover", "hard"}});
  join_room(b, code, "Bo", {&a});
  a.send({{"type", "start_game"}, {"options", {{"match_seconds", 10}}}});
  const auto started = a.recv_until("game_started");
  b.recv_until("game_started");
  a.expect("room_state");

  b.drop();
  CHECK(a.recv_until("player_disconnected")["player_id"] == b.player_id());
  const auto taken = until_taken_over(a, b.player_id());
  CHECK((*player_in(taken, b.player_id()))["connected"] == true);
  CHECK((*player_in(taken, b.player_id()))["name"] == "Bo");
  CHECK(taken["room"]["host"] == a.player_id());
  // The game says so in its state stream, then the AI fights on to the end of the match.
  bool event_seen = false;
  json over;
  while (over.is_null()) {
    const auto msg = a.recv(std::chrono::seconds(10));
    if (msg["type"] == "game_over") over = msg;
    if (msg["type"] == "state")
      for (const auto& e : msg["events"])
        if (e["event"] == "ai_takeover") {
          CHECK(e["seat"] == 1);
          CHECK(e["difficulty"] == "hard");
          event_seen = true;
        }
  }
  CHECK(event_seen);
  bool listed = false;
  for (const auto& s : over["result"]["standings"])
    if (s["player_id"] == b.player_id()) {
      listed = true;
      CHECK(s["ai"] == true);
      CHECK(s["left"] == false);
    }
  CHECK(listed);

  // The seat is the AI's now: b's session is gone.
  WsClient late(server.port(), WsClient::resume_options(b));
  CHECK(late.expect("welcome")["resume_refused"]["code"] == "RESUME_FAILED");

  const auto file = wait_for_file(server.dir() + "/rec/" + started["game_id"].get<std::string>() + ".mtrec");
  check_replay_verified(file, over["result"]);
  CHECK(server.stop() == 0);
}

TEST_CASE("party ai_takeover: the AI answers for the seat; clients cannot send ai_takeover", "[takeover][party]") {
  TestServer server(takeover_args());
  WsClient a(server.port()), b(server.port());
  const auto code = create_room(a, "party", "Ada", {{"ai_takeover", "hard"}});
  join_room(b, code, "Bo", {&a});
  const json options{{"rounds", 8}, {"question_ms", 10000}, {"elimination_ms", 1000}, {"voting_ms", 1000}, {"results_ms", 1000}};
  a.send({{"type", "start_game"}, {"options", options}});
  const auto started = a.recv_until("game_started");
  b.recv_until("game_started");
  a.expect("room_state");
  // Only the room may hand a seat to the AI.
  b.send({{"type", "input"}, {"input_seq", 1}, {"data", {{"action", "ai_takeover"}, {"difficulty", "easy"}}}});
  CHECK(b.recv_until("error")["code"] == "BAD_MESSAGE");

  b.drop();
  until_taken_over(a, b.player_id());
  // The host answers; the AI (hard: within 4 s) answers for Bo, which ends the first
  // question. After it the host hurries every phase on.
  std::uint64_t seq = 0;
  const auto act = [&](json data) { a.send({{"type", "input"}, {"input_seq", ++seq}, {"data", std::move(data)}}); };
  act({{"action", "answer"}, {"text", "A guess"}});
  bool ai_answered = false;
  int round = 1;
  json over;
  while (over.is_null()) {
    const auto msg = a.recv(std::chrono::seconds(15));
    if (msg["type"] == "game_over") over = msg;
    if (msg["type"] != "state") continue;
    for (const auto& e : msg["events"]) {
      if (e["event"] == "answered" && e["seat"] == 1 && round == 1) ai_answered = true;
      if (e["event"] != "phase" || e["phase"] == "final") continue;
      round = e["round"];
      act({{"action", e["phase"] == "results" ? "next_round" : "end_phase"}});
    }
  }
  CHECK(ai_answered);
  const auto file = wait_for_file(server.dir() + "/rec/" + started["game_id"].get<std::string>() + ".mtrec");
  check_replay_verified(file, over["result"]);
  CHECK(server.stop() == 0);
}
