#include "mtown/loadtest/input_schedule.hpp"

namespace mtown::loadtest {

void InputSchedule::start(double hz, Clock::time_point first_due) {
  running_ = true;
  period_ = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / hz));
  first_due_ = first_due;
  base_ = next_seq_;  // seqs keep growing across restarts: acks are never confused
}

bool InputSchedule::take_due(Clock::time_point now, std::uint64_t& seq, Clock::time_point& due) {
  if (!running_ || burst_ >= kMaxBurst) return false;
  due = at(next_seq_);
  if (due > now) return false;
  seq = next_seq_++;
  ++burst_;
  pending_.push_back({seq, due});
  return true;
}

}  // namespace mtown::loadtest
