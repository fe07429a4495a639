// Replay speed: a 10-minute 8-seat arena match (36,000 ticks at 60 Hz) recorded in memory
// the way a room records it, then re-run and verified by mtown's replay engine. Prints
// ticks per second and the multiple of real time (target: >= 1000x), for the engine alone
// and with parsing the .mtrec text first. Two casts: 8 scripted humans (a move every 3
// ticks and an attack every 20 per seat, synthesized deterministically), and 4 such humans
// with 4 AI seats. Median of 5 runs. Usage: replay_bench [minutes]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "mtown/replay/offline_game.hpp"
#include "mtown/replay/report.hpp"

namespace {

using namespace mtown;

core::Recording record_match(std::uint32_t minutes, std::uint32_t humans) {
  core::RecordingHeader h;
  h.game_id = "g_bench";
  h.game = "arena";
  h.seed = 42;
  h.options = {{"match_seconds", minutes * 60}};
  h.room_code = "KX7P";
  h.hash_every = 60;
  const core::AiDifficulty kAi[] = {core::AiDifficulty::easy, core::AiDifficulty::medium, core::AiDifficulty::hard};
  for (std::uint32_t i = 0; i < 8; ++i)
    h.seats.push_back({"p_" + std::to_string(i), "Seat " + std::to_string(i), i >= humans, kAi[i % 3]});
  replay::OfflineGame g(h);
  std::uint64_t lcg = 7;
  std::vector<std::uint64_t> seq(humans, 0);
  for (core::Tick t = 1; !g.game().finished(); ++t) {
    std::vector<core::GameInput> inputs;
    for (std::uint32_t s = 0; s < humans; ++s) {
      if ((t + s) % 20 == 0) inputs.push_back({s, ++seq[s], {{"action", "attack"}}});
      if ((t + s) % 3 != 0) continue;
      lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
      inputs.push_back({s, ++seq[s], {{"action", "move"}, {"x", (lcg >> 20) % 1000000 / 1000.0}, {"y", (lcg >> 40) % 1000000 / 1000.0}}});
    }
    g.step(t, std::move(inputs));
  }
  g.finish();
  return g.recording();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void run(const char* cast, std::uint32_t minutes, std::uint32_t humans) {
  const auto rec = record_match(minutes, humans);
  const auto text = core::to_mtrec(rec);
  std::vector<double> engine_s, file_s;
  replay::ReplayReport last;
  for (int i = 0; i < 5; ++i) {
    last = replay::replay_recording(rec);
    if (!last.verified()) {
      std::fprintf(stderr, "the recording did not verify: %s\n", replay::report_text(last).c_str());
      std::exit(1);
    }
    engine_s.push_back(last.elapsed_s);
    const auto t0 = std::chrono::steady_clock::now();
    const auto parsed = core::from_mtrec(text);
    const auto with_parse = replay::replay_recording(parsed);
    file_s.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    if (!with_parse.verified()) {
      std::fprintf(stderr, "the parsed recording did not verify: %s\n", replay::report_text(with_parse).c_str());
      std::exit(1);
    }
  }
  const double game_s = static_cast<double>(last.game_ms) / 1000.0;
  const double e = median(engine_s), f = median(file_s);
  std::printf("%-26s %6llu ticks %7zu inputs %6.2f MB | engine %7.3f s %9.0f ticks/s %6.0fx | file %7.3f s %9.0f ticks/s %6.0fx\n",
              cast, static_cast<unsigned long long>(last.ticks), last.inputs, static_cast<double>(text.size()) / 1e6, e,
              static_cast<double>(last.ticks) / e, game_s / e, f, static_cast<double>(last.ticks) / f, game_s / f);
}

}  // namespace

int main(int argc, char** argv) {
  const std::uint32_t minutes = argc > 1 ? static_cast<std::uint32_t>(std::atoi(argv[1])) : 10;
  std::printf("arena, %u-minute match, 8 seats, 60 Hz, a checkpoint every 60 ticks; median of 5 runs\n", minutes);
  run("8 scripted humans", minutes, 8);
  run("4 scripted humans + 4 AI", minutes, 4);
  return 0;
}
