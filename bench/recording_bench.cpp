// Recording throughput: how many game_events rows per second the batching writer commits
// to SQLite or PostgreSQL while a real 60 Hz arena (8 seats, an input per seat per tick)
// records into the same writer, and whether the arena's ticks stay on time.
//   recording_bench URL [seconds=10] [batch_max_rows=500] [batch_max_ms=200]
// URL: sqlite:PATH or postgres://... (migrated first). Prints one JSON line.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "mtown/games/registry.hpp"
#include "mtown/migrate/migrator.hpp"
#include "mtown/store/record_writer.hpp"

using namespace mtown;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

namespace {

double counter(const core::MetricsRegistry& m, const std::string& name) {
  const auto text = m.render();
  const auto at = text.find("\n" + name + " ");
  return at == std::string::npos ? 0 : std::stod(text.substr(at + name.size() + 2));
}

// The arena at 60 Hz on this thread, every seat moving every tick; returns the worst
// lateness of a tick start in ms.
double run_arena(store::RecordWriter& writer, std::chrono::seconds duration, std::uint64_t& ticks) {
  const json options{{"match_seconds", 3600}};
  auto game = games::create_game("arena", options);
  std::vector<core::GameSeat> seats;
  for (int i = 0; i < 8; ++i) seats.push_back({"p_" + std::to_string(i), "P" + std::to_string(i), false, {}});
  core::Rng rng(42);
  game->start(seats, rng);
  auto rec = writer.recorder({8, "p_0"});
  rec->begin({core::kRecordingFormat, "g_bench_arena", "arena", game->version(), 60, 42, options, seats, "BNCH", core::epoch_ms(), 60});
  const auto period = std::chrono::nanoseconds(1'000'000'000 / 60);
  const auto t0 = Clock::now();
  auto next = t0 + period;
  double worst_ms = 0;
  for (ticks = 1; Clock::now() - t0 < duration; ++ticks) {
    std::this_thread::sleep_until(next);
    worst_ms = std::max(worst_ms, std::chrono::duration<double, std::milli>(Clock::now() - next).count());
    std::vector<core::GameInput> inputs;
    for (std::uint32_t s = 0; s < 8; ++s)
      inputs.push_back({s, ticks, {{"action", "move"}, {"dx", static_cast<int>(ticks % 7) - 3}, {"dy", 1000}}});
    core::StepOutput out;
    game->step(ticks, inputs, rng, out);
    rec->record(core::RecordedStep{ticks, std::move(inputs)});
    for (auto& e : out.events) rec->record(core::RecordedEvent{ticks, std::move(e)});
    if (ticks % 60 == 0) {
      core::StateHasher h;
      game->hash(h);
      rec->record(core::RecordedHash{ticks, h.value(), game->snapshot(), ""});
    }
    next += period;
  }
  rec->record(core::RecordedEnd{ticks, 0, "aborted", nullptr});
  return worst_ms;
}

// Floods the writer with 8-input steps, keeping its queue between 50% and 100% full.
void flood(store::RecordWriter& writer, const std::atomic<bool>& stop, std::size_t queue_max) {
  auto rec = writer.recorder({8, ""});
  std::vector<core::GameSeat> seats(8, core::GameSeat{"p_f", "F", false, {}});
  rec->begin({core::kRecordingFormat, "g_bench_flood", "arena", 1, 60, 1, json::object(), seats, "FLOD", core::epoch_ms(), 60});
  for (core::Tick t = 1; !stop; ++t) {
    if (writer.health().queued > queue_max / 2) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    std::vector<core::GameInput> inputs;
    for (std::uint32_t s = 0; s < 8; ++s) inputs.push_back({s, t, {{"action", "move"}, {"dx", 1}, {"dy", -1}}});
    rec->record(core::RecordedStep{t, std::move(inputs)});
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s URL [seconds] [batch_max_rows] [batch_max_ms]\n", argv[0]);
    return 2;
  }
  const std::string url = argv[1];
  const auto seconds = std::chrono::seconds(argc > 2 ? std::atoi(argv[2]) : 10);
  store::WriterSettings s;
  if (argc > 3) s.batch_max_rows = static_cast<std::size_t>(std::atoi(argv[3]));
  if (argc > 4) s.batch_max_ms = std::chrono::milliseconds(std::atoi(argv[4]));
  migrate::Migrator::open(url)->up(std::nullopt, false);
  core::MetricsRegistry metrics;
  auto writer = std::make_shared<store::RecordWriter>(url, s, metrics);
  writer->start();
  std::atomic<bool> stop{false};
  std::thread flooder([&] { flood(*writer, stop, s.queue_max_records); });
  std::uint64_t ticks = 0;
  const auto t0 = Clock::now();
  const double worst_ms = run_arena(*writer, seconds, ticks);
  stop = true;
  flooder.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  const double rows = counter(metrics, "mtown_recording_rows_written_total");
  const double batches = counter(metrics, "mtown_recording_batches_total");
  writer->stop(std::chrono::seconds(30));
  std::printf("%s\n", json{{"url", url.substr(0, url.find(':'))},
                           {"seconds", elapsed},
                           {"rows_written", rows},
                           {"rows_per_s", rows / elapsed},
                           {"batches", batches},
                           {"rows_per_batch", batches > 0 ? rows / batches : 0},
                           {"batch_max_rows", s.batch_max_rows},
                           {"batch_max_ms", s.batch_max_ms.count()},
                           {"arena_ticks", ticks},
                           {"arena_worst_tick_late_ms", worst_ms}}
                          .dump()
                          .c_str());
  return 0;
}
