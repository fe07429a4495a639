// Counters and histograms one worker thread owns (no locks: only its thread touches
// them; the runner reads copies taken on that thread). Totals cover the whole run (they
// are compared with the server's /metrics); window figures cover the measured window.
#pragma once
#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "mtown/loadtest/histogram.hpp"
#include "mtown/loadtest/input_schedule.hpp"

namespace mtown::loadtest {

// A latency or jitter sample as the histograms record it.
inline std::uint64_t micros(Clock::duration d) {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
}

// Set once by the runner's thread after the ramp; read by every worker.
struct Window {
  std::atomic<Clock::rep> start{Clock::time_point::max().time_since_epoch().count()};
  std::atomic<Clock::rep> end{Clock::time_point::max().time_since_epoch().count()};
  bool contains(Clock::time_point t) const {
    const auto r = t.time_since_epoch().count();
    return r >= start.load(std::memory_order_relaxed) && r < end.load(std::memory_order_relaxed);
  }
};

// What changes from one progress tick to the next (for the timeline and live line).
struct Interval {
  std::uint64_t msgs_in = 0, msgs_out = 0, bytes_in = 0, bytes_out = 0, errors = 0;
  Histogram latency_us;
  void merge(const Interval& o) {
    msgs_in += o.msgs_in, msgs_out += o.msgs_out, bytes_in += o.bytes_in, bytes_out += o.bytes_out;
    errors += o.errors;
    latency_us.merge(o.latency_us);
  }
};

struct Stats {
  // Whole run.
  std::uint64_t connect_attempts = 0, connect_failures = 0, disconnects = 0, protocol_errors = 0;
  std::uint64_t msgs_in = 0, msgs_out = 0, bytes_in = 0, bytes_out = 0, wire_bytes_in = 0, wire_bytes_out = 0;
  std::uint64_t error_msgs = 0;
  std::map<std::string, std::uint64_t> error_codes;  // server error code (or our own tag) -> count
  std::string first_connect_error;
  // Window.
  std::uint64_t state_msgs = 0, inputs = 0, unacked = 0, tick_gaps = 0, games_completed = 0, rounds = 0;
  std::uint64_t pings = 0;
  Histogram latency_us;        // arena input -> ack, idle ping -> pong
  Histogram input_latency_us;  // arena only
  Histogram ping_rtt_us;       // idle only
  Histogram jitter_us;         // |state spacing - tick period|
  Histogram phase_result_us;   // party: last vote -> phase result
  // Resumes (churn), by the time of the drop; missed/duplicated count every bot's seqs.
  std::uint64_t drops = 0, resumes = 0, resumes_failed = 0, snapshot_fallbacks = 0, replayed = 0;
  std::uint64_t snapshot_skipped = 0;  // seqs a snapshot resume jumped over
  std::uint64_t seq_missed = 0, seq_duplicated = 0;  // whole run
  Histogram resume_us;         // drop -> `resumed`
  std::vector<double> state_rate;  // per arena bot, state messages/s in the window

  void merge(const Stats& o);
};

}  // namespace mtown::loadtest
