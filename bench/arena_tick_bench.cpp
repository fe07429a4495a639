// One arena tick as the server runs it: ArenaGame::step for 8 seats (4 scripted humans
// sending a move every 3 ticks, 4 AI seats), then the state message GameRunner::publish
// builds and dump()s (refusals, events + delta + acks). Also the bytes per client per
// second of per-tick deltas against full snapshots over a 60 s match.
// Target: step + encode < 50 us per tick (docs/performance.md).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mtown/core/protocol.hpp"
#include "mtown/games/arena.hpp"

namespace {

using mtown::core::GameInput;
using mtown::core::ServerType;
using nlohmann::json;

constexpr std::uint32_t kSeats = 8;
constexpr std::uint32_t kHumans = 4;  // seats 0..3; seats 4..7 are AI
constexpr mtown::core::Tick kInputEveryTicks = 3;
constexpr const char* kRoomCode = "KX7P";

// The room the server would run: 4 humans, 4 AI seats of mixed difficulty, a fixed seed.
struct ArenaMatch {
  explicit ArenaMatch(std::uint32_t match_seconds, std::uint64_t seed = 42)
      : game(mtown::games::ArenaOptions{60, match_seconds}), rng(seed) {
    constexpr mtown::core::AiDifficulty kAi[] = {mtown::core::AiDifficulty::easy, mtown::core::AiDifficulty::medium,
                                                 mtown::core::AiDifficulty::hard, mtown::core::AiDifficulty::medium};
    std::vector<mtown::core::GameSeat> seats;
    for (std::uint32_t i = 0; i < kSeats; ++i) {
      const bool ai = i >= kHumans;
      seats.push_back({"p_" + std::to_string(10000000 + i), (ai ? "Robot " : "Player ") + std::to_string(i), ai,
                       ai ? kAi[i - kHumans] : mtown::core::AiDifficulty::medium});
    }
    game.start(std::move(seats), rng);
  }

  // The inputs the scripted humans send before tick `t`: each human moves to a new
  // pseudo-random point every 3 ticks, staggered so about 1.3 inputs arrive per tick.
  std::vector<GameInput> inputs_for(mtown::core::Tick t) {
    std::vector<GameInput> inputs;
    for (std::uint32_t h = 0; h < kHumans; ++h) {
      if ((t + h) % kInputEveryTicks != 0) continue;
      lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
      const double x = static_cast<double>((lcg >> 20) % 1000000) / 1000.0;
      const double y = static_cast<double>((lcg >> 40) % 1000000) / 1000.0;
      inputs.push_back({h, ++input_seq[h], json{{"action", "move"}, {"x", x}, {"y", y}}});
    }
    return inputs;
  }

  mtown::core::StepOutput step() {
    ++tick;
    auto inputs = inputs_for(tick);
    mtown::core::StepOutput out;
    game.step(tick, inputs, rng, out);
    return out;
  }

  mtown::games::ArenaGame game;
  mtown::core::Rng rng;
  mtown::core::Tick tick = 0;
  std::uint64_t lcg = 7;
  std::uint64_t input_seq[kHumans] = {};
};

// What GameRunner::publish encodes for one tick of a fixed-rate game.
std::size_t publish(ArenaMatch& m, mtown::core::StepOutput& out) {
  std::size_t bytes = 0;
  for (const auto& r : out.refusals) {
    json msg{{"type", "error"}, {"code", mtown::core::error_code_name(r.code)}, {"message", r.message},
             {"input_seq", r.input_seq}};
    bytes += msg.dump(-1, ' ', false, json::error_handler_t::replace).size();
  }
  json state{{"code", kRoomCode}, {"tick", m.tick}, {"events", std::move(out.events)}};
  state["delta"] = m.game.delta();
  state["acks"] = m.game.acks();
  const auto msg = mtown::core::encode_message(ServerType::state, std::move(state));
  return bytes + msg->body.size();
}

// Keeps a long-running benchmark inside one match: restarts when it is over.
void restart_if_finished(benchmark::State& state, std::unique_ptr<ArenaMatch>& m) {
  if (!m->game.finished()) return;
  state.PauseTiming();
  m = std::make_unique<ArenaMatch>(3600, m->lcg);
  state.ResumeTiming();
}

void BM_ArenaStep8(benchmark::State& state) {
  auto m = std::make_unique<ArenaMatch>(3600);
  for (auto _ : state) {
    auto out = m->step();
    benchmark::DoNotOptimize(out);
    restart_if_finished(state, m);
  }
}
BENCHMARK(BM_ArenaStep8)->Unit(benchmark::kMicrosecond);

void BM_ArenaStepEncode8(benchmark::State& state) {
  auto m = std::make_unique<ArenaMatch>(3600);
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto out = m->step();
    bytes += publish(*m, out);
    restart_if_finished(state, m);
  }
  state.counters["bytes_per_tick"] = static_cast<double>(bytes) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_ArenaStepEncode8)->Unit(benchmark::kMicrosecond);

// For comparison: encoding a full-snapshot state message instead of the delta.
void BM_ArenaSnapshotEncode8(benchmark::State& state) {
  ArenaMatch m(3600);
  for (int i = 0; i < 600; ++i) m.step();
  for (auto _ : state) {
    json msg{{"code", kRoomCode}, {"tick", m.tick}, {"events", json::array()}, {"snapshot", m.game.snapshot()},
             {"acks", m.game.acks()}};
    benchmark::DoNotOptimize(mtown::core::encode_message(ServerType::state, std::move(msg)));
  }
}
BENCHMARK(BM_ArenaSnapshotEncode8)->Unit(benchmark::kMicrosecond);

// Bytes one client receives per second at 60 Hz: the delta state message the server
// sends against a full-snapshot one (both with the per-seat acks), averaged over a whole 60 s match (3600 ticks).
// Counted as sent: `{"seq":N,` + body (one shared body per broadcast), plus the 2- or
// 4-byte WebSocket frame header in the *_wire_* counters. Its time column means nothing.
void BM_ArenaMatchBytes8(benchmark::State& state) {
  ArenaMatch m(60);
  double delta_bytes = 0, snapshot_bytes = 0, delta_wire = 0, snapshot_wire = 0;
  std::uint64_t ticks = 0, seq = 10;  // welcome, room_joined, room_state x8, game_started came first
  const auto ws_header = [](std::size_t n) { return n < 126 ? 2.0 : n < 65536 ? 4.0 : 10.0; };
  while (!m.game.finished()) {
    auto out = m.step();
    json snap{{"code", kRoomCode}, {"tick", m.tick}, {"events", out.events}, {"snapshot", m.game.snapshot()},
              {"acks", m.game.acks()}};
    json delta{{"code", kRoomCode}, {"tick", m.tick}, {"events", std::move(out.events)}, {"delta", m.game.delta()},
               {"acks", m.game.acks()}};
    const std::size_t prefix = mtown::core::seq_prefix(++seq).size() - 1;  // the body's own `{` is replaced
    const std::size_t d = prefix + mtown::core::encode_message(ServerType::state, std::move(delta))->body.size();
    const std::size_t s = prefix + mtown::core::encode_message(ServerType::state, std::move(snap))->body.size();
    delta_bytes += static_cast<double>(d);
    snapshot_bytes += static_cast<double>(s);
    delta_wire += static_cast<double>(d) + ws_header(d);
    snapshot_wire += static_cast<double>(s) + ws_header(s);
    ++ticks;
  }
  for (auto _ : state) benchmark::DoNotOptimize(ticks);
  const double n = static_cast<double>(ticks);
  state.counters["ticks"] = n;
  state.counters["delta_avg_bytes"] = delta_bytes / n;
  state.counters["snapshot_avg_bytes"] = snapshot_bytes / n;
  state.counters["delta_Bps"] = delta_bytes / n * 60.0;
  state.counters["snapshot_Bps"] = snapshot_bytes / n * 60.0;
  state.counters["delta_wire_Bps"] = delta_wire / n * 60.0;
  state.counters["snapshot_wire_Bps"] = snapshot_wire / n * 60.0;
  state.counters["snapshot_over_delta"] = snapshot_bytes / delta_bytes;
}
BENCHMARK(BM_ArenaMatchBytes8)->Iterations(1)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
