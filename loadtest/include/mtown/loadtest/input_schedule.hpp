// A bot's fixed input schedule and its acknowledgements: input k is due at
// start + (k-1)/hz whatever happens; latency is taken from that due time, so a stalled
// server (or a late generator) shows up as latency, never as fewer samples (no
// coordinated omission). Pure logic, driven by the caller's clock; shared with bench/.
#pragma once
#include <chrono>
#include <cstdint>
#include <deque>

namespace mtown::loadtest {

using Clock = std::chrono::steady_clock;

class InputSchedule {
 public:
  // The server refuses more than 16 inputs per seat per tick; a bot further behind skips.
  static constexpr int kMaxBurst = 16;

  void start(double hz, Clock::time_point first_due);
  bool running() const { return running_; }
  Clock::time_point next_due() const { return at(next_seq_); }
  std::uint64_t next_seq() const { return next_seq_; }

  // The next input due by `now` (its seq and due time, now pending); false when none is,
  // or kMaxBurst were taken in this call sequence (call begin_burst() first).
  void begin_burst() { burst_ = 0; }
  bool take_due(Clock::time_point now, std::uint64_t& seq, Clock::time_point& due);
  // After a burst: inputs more than a burst behind are skipped; calls `skipped(due)` for
  // each so the caller can count them (as unacknowledged, never silently).
  template <class F>
  void skip_behind(Clock::time_point now, F&& skipped) {
    while (at(next_seq_) <= now) skipped(at(next_seq_++));
  }

  // An ack for every input up to `seq`: calls `acked(due)` for each newly acked input.
  template <class F>
  void ack(std::uint64_t seq, F&& acked) {
    if (seq <= acked_) return;
    acked_ = seq;
    while (!pending_.empty() && pending_.front().seq <= seq) {
      acked(pending_.front().due);
      pending_.pop_front();
    }
  }
  // Stops the schedule; calls `unacked(due)` for each input still pending.
  template <class F>
  void stop(F&& unacked) {
    running_ = false;
    for (const auto& p : pending_) unacked(p.due);
    pending_.clear();
  }
  std::size_t pending() const { return pending_.size(); }

 private:
  Clock::time_point at(std::uint64_t seq) const { return first_due_ + period_ * static_cast<Clock::rep>(seq - base_); }
  struct Pending {
    std::uint64_t seq;
    Clock::time_point due;
  };
  bool running_ = false;
  Clock::time_point first_due_{};
  Clock::duration period_{};
  std::uint64_t base_ = 1, next_seq_ = 1, acked_ = 0;
  int burst_ = 0;
  std::deque<Pending> pending_;
};

}  // namespace mtown::loadtest
