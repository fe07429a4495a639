// Idle bots hold a connection and send a ping every --heartbeat (at seeded, fixed due
// times); the round trip from each ping's due time to its pong is their latency.
#include "scenarios.hpp"

namespace mtown::loadtest {

void IdleBot::on_open() {
  const auto period = std::chrono::duration<double>(opts().heartbeat_s);
  period_ = std::chrono::duration_cast<Clock::duration>(period);
  next_due_ = Clock::now() + std::chrono::duration_cast<Clock::duration>(period * std::uniform_real_distribution<>(0, 1)(rng_));
  arm();
}

void IdleBot::arm() {
  timer_.expires_at(next_due_);
  timer_.async_wait([self = std::static_pointer_cast<IdleBot>(shared_from_this())](boost::system::error_code ec) {
    if (ec || !self->sending_ || !self->open()) return;
    const auto due = self->next_due_;
    self->pending_.emplace_back(self->next_rid_, due);
    if (self->in_window(due)) ++self->stats().pings;
    self->send({{"type", "ping"}, {"rid", self->next_rid_++}});
    self->next_due_ += self->period_;
    while (self->next_due_ <= Clock::now()) self->next_due_ += self->period_;  // a stall: skip, pending shows it
    self->arm();
  });
}

void IdleBot::on_message(const json& m, Clock::time_point now) {
  const auto type = m.value("type", "");
  if (type == "welcome") {
    mark_ready();
  } else if (type == "pong") {
    const auto rid = m.value("rid", std::uint64_t{0});
    while (!pending_.empty() && pending_.front().first <= rid) {
      const auto [id, due] = pending_.front();
      pending_.pop_front();
      if (id != rid || !in_window(due)) continue;
      const auto us = micros(now - due);
      stats().latency_us.record(us);
      stats().ping_rtt_us.record(us);
      interval().latency_us.record(us);
    }
  } else if (type == "error") {
    count_error(m.value("code", "?"));
  }
}

void IdleBot::finish(Stats& s) {
  const auto now = Clock::now();
  for (const auto& [rid, due] : pending_) {
    if (!w_.window.contains(due)) continue;
    ++s.unacked;
    const auto us = micros(now - due);
    s.latency_us.record(us);
    s.ping_rtt_us.record(us);
  }
  pending_.clear();
}

}  // namespace mtown::loadtest
