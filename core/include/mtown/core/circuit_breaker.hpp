// Circuit breaker for a backing service (seed 000): after `threshold` failures in a row
// it opens and refuses attempts for `reset_timeout`; then one trial attempt (half-open)
// closes it on success or reopens it on failure. Time is passed in; not thread-safe
// (one owner thread), except state_now(), which other threads may read.
#pragma once
#include <atomic>
#include <chrono>
#include <string_view>

namespace mtown::core {

class CircuitBreaker {
 public:
  using Clock = std::chrono::steady_clock;
  enum class State { closed = 0, half_open = 1, open = 2 };

  CircuitBreaker(int threshold, std::chrono::milliseconds reset_timeout);

  // May an attempt run now? An open breaker past its timeout turns half-open and says yes.
  bool allow(Clock::time_point now);
  void on_success();
  void on_failure(Clock::time_point now);

  State state() const { return state_.load(std::memory_order_relaxed); }
  int failures() const { return failures_; }            // in a row
  Clock::time_point reopens_at() const { return retry_at_; }  // when open: next trial

 private:
  int threshold_;
  std::chrono::milliseconds reset_timeout_;
  std::atomic<State> state_{State::closed};
  int failures_ = 0;
  Clock::time_point retry_at_{};
};

std::string_view breaker_state_name(CircuitBreaker::State s);

// Delay before retry `attempt` (1, 2, 3, ...): 2^attempt * 100 ms plus `jitter_ms`
// (0-100, seed 000), capped at `cap`.
std::chrono::milliseconds retry_backoff(int attempt, int jitter_ms,
                                        std::chrono::milliseconds cap = std::chrono::milliseconds(2000));

}  // namespace mtown::core
