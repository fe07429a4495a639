#include "stats.hpp"

namespace mtown::loadtest {

void Stats::merge(const Stats& o) {
  connect_attempts += o.connect_attempts, connect_failures += o.connect_failures, disconnects += o.disconnects;
  protocol_errors += o.protocol_errors;
  msgs_in += o.msgs_in, msgs_out += o.msgs_out, bytes_in += o.bytes_in, bytes_out += o.bytes_out;
  wire_bytes_in += o.wire_bytes_in, wire_bytes_out += o.wire_bytes_out;
  error_msgs += o.error_msgs;
  for (const auto& [code, n] : o.error_codes) error_codes[code] += n;
  if (first_connect_error.empty()) first_connect_error = o.first_connect_error;
  state_msgs += o.state_msgs, inputs += o.inputs, unacked += o.unacked, tick_gaps += o.tick_gaps;
  games_completed += o.games_completed, rounds += o.rounds, pings += o.pings;
  latency_us.merge(o.latency_us);
  input_latency_us.merge(o.input_latency_us);
  ping_rtt_us.merge(o.ping_rtt_us);
  jitter_us.merge(o.jitter_us);
  phase_result_us.merge(o.phase_result_us);
  drops += o.drops, resumes += o.resumes, resumes_failed += o.resumes_failed;
  snapshot_fallbacks += o.snapshot_fallbacks, replayed += o.replayed, snapshot_skipped += o.snapshot_skipped;
  seq_missed += o.seq_missed, seq_duplicated += o.seq_duplicated;
  resume_us.merge(o.resume_us);
  state_rate.insert(state_rate.end(), o.state_rate.begin(), o.state_rate.end());
}

}  // namespace mtown::loadtest
