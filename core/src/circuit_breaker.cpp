#include "mtown/core/circuit_breaker.hpp"

#include <algorithm>

namespace mtown::core {

CircuitBreaker::CircuitBreaker(int threshold, std::chrono::milliseconds reset_timeout)
    : threshold_(std::max(1, threshold)), reset_timeout_(reset_timeout) {}

bool CircuitBreaker::allow(Clock::time_point now) {
  if (state() != State::open) return true;
  if (now < retry_at_) return false;
  state_.store(State::half_open, std::memory_order_relaxed);
  return true;
}

void CircuitBreaker::on_success() {
  failures_ = 0;
  state_.store(State::closed, std::memory_order_relaxed);
}

void CircuitBreaker::on_failure(Clock::time_point now) {
  ++failures_;
  if (state() == State::half_open || failures_ >= threshold_) {
    state_.store(State::open, std::memory_order_relaxed);
    retry_at_ = now + reset_timeout_;
  }
}

std::string_view breaker_state_name(CircuitBreaker::State s) {
  switch (s) {
    case CircuitBreaker::State::closed: return "closed";
    case CircuitBreaker::State::half_open: return "half_open";
    case CircuitBreaker::State::open: return "open";
  }
  return "closed";
}

std::chrono::milliseconds retry_backoff(int attempt, int jitter_ms, std::chrono::milliseconds cap) {
  const int shift = std::clamp(attempt, 0, 16);
  const auto base = std::chrono::milliseconds((1LL << shift) * 100 + std::clamp(jitter_ms, 0, 100));
  return std::min(base, cap);
}

}  // namespace mtown::core
