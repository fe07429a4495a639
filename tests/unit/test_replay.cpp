// The replay engine on recordings made in memory (replay::OfflineGame records the way a
// room does): verification, the exact first divergent tick with the fields that differ,
// --until/--print-state, timelines, and every way a recording is refused.
#include <catch2/catch.hpp>

#include "mtown/games/registry.hpp"
#include "mtown/replay/offline_game.hpp"
#include "mtown/replay/report.hpp"

// Inside mtown (no using-directives): the unit tests are one unity build.
namespace mtown {
namespace {

using core::GameInput;
using nlohmann::json;
using replay::OfflineGame;

core::RecordingHeader arena_header(std::uint32_t match_seconds, std::uint64_t seed = 42) {
  core::RecordingHeader h;
  h.game_id = "g_test";
  h.game = "arena";
  h.seed = seed;
  h.options = {{"match_seconds", match_seconds}};
  h.room_code = "KX7P";
  h.started_at_ms = 1790000000000;
  h.hash_every = 60;
  const core::AiDifficulty kAi[] = {core::AiDifficulty::easy, core::AiDifficulty::medium, core::AiDifficulty::hard,
                                    core::AiDifficulty::medium};
  for (std::uint32_t i = 0; i < 8; ++i)
    h.seats.push_back({"p_" + std::to_string(i), (i < 4 ? "Player " : "Robot ") + std::to_string(i), i >= 4,
                       i >= 4 ? kAi[i - 4] : core::AiDifficulty::medium});
  return h;
}

// 4 scripted humans: a move to a pseudo-random point every 3 ticks (staggered), an attack
// every 20; 4 AI seats. `ticks` ticks, then the end.
core::Recording arena_recording(core::Tick ticks, std::uint32_t match_seconds = 20, bool complete = true) {
  OfflineGame g(arena_header(match_seconds));
  std::uint64_t lcg = 7, seq[4] = {};
  for (core::Tick t = 1; t <= ticks && !g.game().finished(); ++t) {
    std::vector<GameInput> inputs;
    for (std::uint32_t h = 0; h < 4; ++h) {
      if ((t + h) % 20 == 0) inputs.push_back({h, ++seq[h], {{"action", "attack"}}});
      if ((t + h) % 3 != 0) continue;
      lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
      inputs.push_back({h, ++seq[h], {{"action", "move"}, {"x", (lcg >> 20) % 1000000 / 1000.0}, {"y", (lcg >> 40) % 1000000 / 1000.0}}});
    }
    g.step(t, std::move(inputs));
  }
  g.finish(complete && g.game().finished() ? "completed" : "aborted");
  return g.recording();
}

// 1 scripted human (seat 0, the host) who writes an answer 50 ms into each question
// phase; 3 AI seats; phase timers move the game on.
core::Recording party_recording() {
  core::RecordingHeader h;
  h.game_id = "g_party";
  h.game = "party";
  h.seed = 9;
  h.room_code = "PQRS";
  core::Rng setup_rng(h.seed ^ 0x5EEDu);
  h.options = games::prepare_options("party", {{"rounds", 8}, {"question_ms", 1000}, {"elimination_ms", 1000},
                                               {"voting_ms", 1000}, {"results_ms", 1000}},
                                     games::builtin_questions(), setup_rng);
  h.seats = {{"p_ann", "Ann", false, core::AiDifficulty::medium},
             {"ai_1", "Robot 1", true, core::AiDifficulty::easy},
             {"ai_2", "Robot 2", true, core::AiDifficulty::medium},
             {"ai_3", "Robot 3", true, core::AiDifficulty::hard}};
  OfflineGame g(h);
  int answered_round = 0;
  std::uint64_t seq = 0;
  while (!g.game().finished()) {
    const auto snap = g.game().snapshot();
    const int round = snap["round"];
    const auto deadline = g.game().next_deadline();
    REQUIRE(deadline);
    if (snap["phase"] == "question" && answered_round < round && g.tick() + 50 < *deadline) {
      answered_round = round;
      g.step(g.tick() + 50, {{0, ++seq, {{"action", "answer"}, {"text", "fake " + std::to_string(round)}}}});
    } else {
      g.step(std::max(*deadline, g.tick()), {});
    }
  }
  g.finish();
  return g.recording();
}

// The recorded step at or after `tick` with an input of `action` for a human seat.
core::RecordedStep* find_step(core::Recording& r, core::Tick tick, const std::string& action) {
  for (auto& e : r.entries)
    if (auto* s = std::get_if<core::RecordedStep>(&e); s && s->tick >= tick)
      for (auto& in : s->inputs)
        if (in.data.value("action", "") == action) return s;
  return nullptr;
}

bool has_path_prefix(const std::vector<replay::FieldDiff>& fields, const std::string& prefix) {
  for (const auto& f : fields)
    if (f.path.rfind(prefix, 0) == 0) return true;
  return false;
}

}  // namespace

TEST_CASE("replay: an arena recording verifies tick by tick", "[replay]") {
  const auto rec = arena_recording(20 * 60);
  const auto report = replay::replay_recording(rec);
  INFO(replay::report_text(report));
  CHECK(report.verified());
  CHECK(report.status == "completed");
  CHECK(report.ticks == 1200);
  CHECK(report.game_ms == 20000);
  CHECK(report.tick_hashes == 1200);  // every tick's hash compared
  CHECK(report.checkpoints == 20);
  CHECK(report.end_checked);
  CHECK(report.inputs > 1500);
  CHECK(report.result == std::get<core::RecordedEnd>(rec.entries.back()).result);
  // Through a file and back, it is the same recording.
  CHECK(replay::replay_recording(core::from_mtrec(core::to_mtrec(rec))).verified());
}

TEST_CASE("replay: an aborted game and a recording without its end still verify", "[replay]") {
  const auto aborted = arena_recording(150, 20);
  auto report = replay::replay_recording(aborted);
  CHECK(report.verified());
  CHECK(report.status == "aborted");
  CHECK(report.ticks == 150);
  CHECK(report.tick_hashes == 150);
  CHECK(report.checkpoints == 3);  // 60, 120, and the last one at 150

  auto cut = aborted;
  cut.entries.pop_back();
  report = replay::replay_recording(cut);
  CHECK(report.verified());
  CHECK(report.status == "incomplete");
  CHECK_FALSE(report.end_checked);
}

TEST_CASE("replay: one altered arena input is reported at its tick with the fields that differ", "[replay]") {
  auto rec = arena_recording(300);
  auto* step = find_step(rec, 100, "move");
  REQUIRE(step);
  const core::Tick tick = step->tick;
  for (auto& in : step->inputs)
    if (in.data["action"] == "move") {
      in.data = {{"action", "move"}, {"dx", -1000}, {"dy", 0}};
      break;
    }
  const auto report = replay::replay_recording(core::from_mtrec(core::to_mtrec(rec)));
  INFO(replay::report_text(report));
  REQUIRE(report.divergence);
  const auto& d = *report.divergence;
  CHECK(d.tick == tick);
  CHECK(d.what == "state hash");
  CHECK(d.compared_at == (tick + 59) / 60 * 60);  // the next checkpoint
  CHECK(d.expected.size() == 8);
  CHECK(d.expected != d.actual);
  CHECK(has_path_prefix(d.fields, "/players/"));
  for (const auto& f : d.fields) CHECK(f.expected != f.actual);
  CHECK(report.ticks == d.compared_at);  // stops at the checkpoint that showed it
}

TEST_CASE("replay: the first divergent tick is found before an event shows it", "[replay]") {
  auto rec = arena_recording(300);
  // Another seed: the AI seats decide at other ticks from tick 1 on (hidden state), long
  // before any event or checkpoint differs.
  rec.header.seed = 43;
  const auto report = replay::replay_recording(rec);
  REQUIRE(report.divergence);
  CHECK(report.divergence->tick == 1);
}

TEST_CASE("replay: a party recording verifies, and an altered answer diverges at its step", "[replay]") {
  auto rec = party_recording();
  auto report = replay::replay_recording(rec, {{}, {}, true});
  INFO(replay::report_text(report));
  CHECK(report.verified());
  CHECK(report.status == "completed");
  CHECK(report.checkpoints == report.steps);  // event-driven: a hash after every step
  CHECK(report.result["winner"].is_string());
  std::size_t phases = 0, scores = 0, joins = 0, results = 0;
  for (const auto& e : report.timeline) {
    phases += e.kind == "phase";
    scores += e.kind == "scores";
    joins += e.kind == "join";
    results += e.kind == "result";
    CHECK(e.ms == static_cast<std::int64_t>(e.tick));
  }
  CHECK(joins == 4);
  CHECK(phases == 8 * 4);  // 3 more phases per round, a new question for rounds 2-8, then the final
  CHECK(scores == 8);
  CHECK(results == 1);
  CHECK(report.timeline.back().kind == "end");

  auto* step = find_step(rec, 0, "answer");
  REQUIRE(step);
  step->inputs[0].data["text"] = "something else";
  report = replay::replay_recording(rec);
  REQUIRE(report.divergence);
  CHECK(report.divergence->tick == step->tick);
  CHECK(report.divergence->compared_at == step->tick);
}

TEST_CASE("replay: --until and --print-state", "[replay]") {
  const auto rec = arena_recording(600);
  auto report = replay::replay_recording(rec, {core::Tick{250}, core::Tick{200}, false});
  CHECK(report.verified());
  CHECK(report.status == "stopped");
  CHECK(report.ticks == 250);
  CHECK(report.tick_hashes == 240);  // the checkpoints up to 240 were checked
  REQUIRE(report.state);
  CHECK((*report.state)["tick"] == 200);
  CHECK((*report.state)["state"]["tick"] == 200);
  // The state at a checkpoint tick is the recorded one.
  report = replay::replay_recording(rec, {{}, core::Tick{240}, false});
  for (const auto& e : rec.entries)
    if (auto* h = std::get_if<core::RecordedHash>(&e); h && h->tick == 240) {
      CHECK((*report.state)["state"] == h->state);
      CHECK((*report.state)["hash"] == core::hash_hex(h->hash));
    }
  // Tick 0 is the state at the start; past the end is refused.
  report = replay::replay_recording(rec, {{}, core::Tick{0}, false});
  CHECK((*report.state)["state"]["tick"] == 0);
  CHECK_THROWS_AS(replay::replay_recording(rec, {{}, core::Tick{601}, false}), std::out_of_range);
}

TEST_CASE("replay: an arena timeline has joins, kills and the result", "[replay]") {
  const auto report = replay::replay_recording(arena_recording(20 * 60), {{}, {}, true});
  std::size_t kills = 0;
  for (const auto& e : report.timeline) {
    if (e.kind != "kill") continue;
    ++kills;
    CHECK(e.text.find(" killed ") != std::string::npos);
    CHECK(e.ms == static_cast<std::int64_t>(e.tick * 1000 / 60));
  }
  CHECK(kills > 0);
  CHECK(report.timeline.front().kind == "join");
  CHECK(report.timeline[report.timeline.size() - 2].kind == "result");
}

TEST_CASE("replay: events and the end are checked too", "[replay]") {
  auto rec = arena_recording(20 * 60);  // a completed match
  SECTION("a recorded event the replay does not produce") {
    for (auto& e : rec.entries)
      if (auto* ev = std::get_if<core::RecordedEvent>(&e)) {
        ev->event["damage"] = 99;
        break;
      }
    const auto report = replay::replay_recording(rec);
    REQUIRE(report.divergence);
    CHECK(report.divergence->what == "event");
    CHECK(has_path_prefix(report.divergence->fields, "/events/"));
  }
  SECTION("a missing event") {
    // The only event of its tick: the replay then has one the recording lacks.
    const auto lone = [&](std::size_t i) {
      const auto* ev = std::get_if<core::RecordedEvent>(&rec.entries[i]);
      const auto same_tick_event = [&](std::size_t j) {
        const auto* other = std::get_if<core::RecordedEvent>(&rec.entries[j]);
        return other && other->tick == ev->tick;
      };
      return ev && !same_tick_event(i - 1) && !same_tick_event(i + 1);
    };
    std::size_t i = 1;
    while (i + 1 < rec.entries.size() && !lone(i)) ++i;
    REQUIRE(i + 1 < rec.entries.size());
    rec.entries.erase(rec.entries.begin() + static_cast<std::ptrdiff_t>(i));
    const auto report = replay::replay_recording(rec);
    REQUIRE(report.divergence);
    CHECK(report.divergence->what == "event");
    CHECK(report.divergence->expected == "(none)");
  }
  SECTION("a different result") {
    auto& end = std::get<core::RecordedEnd>(rec.entries.back());
    end.result["winner"] = "p_nobody";
    const auto report = replay::replay_recording(rec);
    REQUIRE(report.divergence);
    CHECK(report.divergence->what == "result");
    REQUIRE(report.divergence->fields.size() == 1);
    CHECK(report.divergence->fields[0].path == "/result/winner");
    CHECK(report.divergence->fields[0].expected == "p_nobody");
  }
}

TEST_CASE("replay: recordings that cannot be replayed are refused with their kind", "[replay]") {
  using core::RecordingErrorKind;
  const auto kind_of = [](const core::Recording& r) {
    try {
      replay::replay_recording(r);
    } catch (const core::RecordingError& e) {
      return std::optional(e.kind());
    }
    return std::optional<RecordingErrorKind>();
  };
  auto rec = arena_recording(130, 20);
  auto bad = rec;
  bad.header.game = "chess";
  CHECK(kind_of(bad) == RecordingErrorKind::unknown_game);
  bad = rec;
  bad.header.game_version += 1;
  CHECK(kind_of(bad) == RecordingErrorKind::unknown_game);
  bad = rec;
  bad.header.options = {{"match_seconds", 5}};
  CHECK(kind_of(bad) == RecordingErrorKind::corrupt);
  bad = rec;
  std::get<core::RecordedHash>(bad.entries[bad.entries.size() - 2]).tick_hashes.resize(16);
  CHECK(kind_of(bad) == RecordingErrorKind::corrupt);  // a checkpoint that covers too few ticks
  bad = rec;
  bad.entries.push_back(core::RecordedEvent{130, {{"event", "late"}}});
  CHECK(kind_of(bad) == RecordingErrorKind::corrupt);  // after the end
  bad = rec;
  find_step(bad, 0, "move")->inputs[0].seat = 12;
  CHECK(kind_of(bad) == RecordingErrorKind::corrupt);
  bad = rec;
  find_step(bad, 0, "move")->inputs[0].data = {{"action", "fly"}};
  CHECK(kind_of(bad) == RecordingErrorKind::corrupt);
}

TEST_CASE("replay: state diffs name every differing leaf", "[replay]") {
  const json expected{{"a", 1}, {"b", {{"c/d", 2}, {"e~", {1, 2, 3}}}}, {"gone", true}};
  const json actual{{"a", 1}, {"b", {{"c/d", 3}, {"e~", {1, 5}}}}, {"new", "x"}};
  const auto d = replay::diff_states(expected, actual);
  REQUIRE(d.size() == 5);
  CHECK(d[0] == replay::FieldDiff{"/b/c~1d", 2, 3});
  CHECK(d[1] == replay::FieldDiff{"/b/e~0/1", 2, 5});
  CHECK(d[2] == replay::FieldDiff{"/b/e~0/2", 3, nullptr});
  CHECK(d[3] == replay::FieldDiff{"/gone", true, nullptr});
  CHECK(d[4] == replay::FieldDiff{"/new", nullptr, "x"});
  CHECK(replay::diff_states(expected, expected).empty());
  CHECK(replay::diff_states(expected, actual, "", 2).size() == 2);
}

}  // namespace mtown
