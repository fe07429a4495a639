// Arena bots: fill a room of --room-size (slot 0 creates it, the others join; the arena
// starts when full), then send a move input at --input-hz on a fixed schedule and take
// each input's latency from its due time to the first state whose acks[seat] covers it.
// The host restarts the match when it ends, so runs longer than one match keep going.
#include "scenarios.hpp"

namespace mtown::loadtest {

void ArenaBot::on_open() { create_or_join("arena"); }

void ArenaBot::on_message(const json& m, Clock::time_point now) {
  const auto type = m.value("type", "");
  if (type == "room_joined" && slot_ == 0) {
    publish_room_code(m["room"].value("code", ""));
  } else if (type == "game_started") {
    on_game_started(m, now);
  } else if (type == "game_over") {
    playing_ = false;
    timer_.cancel();
    schedule_.stop([](Clock::time_point) {});  // inputs the match end swallowed: not the server's delay
    if (slot_ == 0 && sending_) send({{"type", "restart_game"}});
  } else if (type == "room_state") {
    if (restarted_once_ && room_full_and_waiting(m)) send({{"type", "start_game"}});
  } else if (type == "error") {
    // An input that crossed the match's end on the wire: expected, listed, not an error.
    if (!playing_ && m.value("code", "") == "GAME_NOT_STARTED")
      ++stats().error_codes["GAME_NOT_STARTED between matches (not counted)"];
    else
      count_error(m.value("code", "?"));
  } else if (type == "state") {
    protocol_error("state message the fast path could not read");
  }
}

void ArenaBot::on_game_started(const json& m, Clock::time_point now) {
  restarted_once_ = true;
  seat_ = seat_in(m);
  if (seat_ < 0) return protocol_error("game_started without my seat");
  const int hz = m.value("tick_hz", 60);
  tick_period_ = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / std::max(1, hz)));
  last_state_at_ = {};
  last_tick_ = 0;
  playing_ = true;
  mark_ready();
  if (!sending_) return;
  // A seeded random phase, so the bots of a room do not all send in the same instant.
  const auto period = std::chrono::duration<double>(1.0 / opts().input_hz);
  const auto phase = std::chrono::duration_cast<Clock::duration>(period * std::uniform_real_distribution<>(0, 1)(rng_));
  schedule_.start(opts().input_hz, now + phase);
  arm();
}

void ArenaBot::arm() {
  timer_.expires_at(schedule_.next_due());
  timer_.async_wait([self = std::static_pointer_cast<ArenaBot>(shared_from_this())](boost::system::error_code ec) {
    if (!ec) self->on_timer();
  });
}

void ArenaBot::on_timer() {
  if (!playing_ || !sending_ || !open()) return;
  const auto now = Clock::now();
  std::uint64_t seq;
  Clock::time_point due;
  std::uniform_int_distribution<int> coord(0, 9999);
  schedule_.begin_burst();
  while (schedule_.take_due(now, seq, due)) {
    const int x = coord(rng_), y = coord(rng_);
    if (msgpack())
      send({{"type", "input"}, {"input_seq", seq},
            {"data", {{"action", "move"}, {"x", x / 10.0}, {"y", y / 10.0}}}});
    else
      send_raw(json_move_input(seq, x, y));
    if (in_window(due)) ++stats().inputs;
  }
  // Further behind than a burst: those inputs are skipped, and counted as unacked.
  schedule_.skip_behind(now, [this](Clock::time_point d) {
    if (in_window(d)) ++stats().inputs, ++stats().unacked;
  });
  arm();
}

bool ArenaBot::on_fast(std::string_view msg, Clock::time_point now) {
  const auto seat = static_cast<std::size_t>(std::max(seat_, 0));
  const auto s = msgpack() ? scan_msgpack_state(msg, seat) : scan_json_state(msg, seat);
  if (!s) return false;
  if (seat_ < 0) return true;  // a state before game_started reached us: nothing to check yet
  if (in_window(now)) {
    ++stats().state_msgs;
    ++state_in_window_;
    if (last_state_at_ != Clock::time_point{}) {
      const auto spacing = now - last_state_at_;
      const auto off = spacing > tick_period_ ? spacing - tick_period_ : tick_period_ - spacing;
      stats().jitter_us.record(micros(off));
    }
    if (last_tick_ && s->tick != last_tick_ + 1) stats().tick_gaps += s->tick > last_tick_ ? s->tick - last_tick_ - 1 : 1;
  }
  last_state_at_ = now;
  last_tick_ = s->tick;
  schedule_.ack(s->ack, [&](Clock::time_point due) {
    if (!in_window(due)) return;
    const auto us = micros(now - due);
    stats().latency_us.record(us);
    stats().input_latency_us.record(us);
    interval().latency_us.record(us);
  });
  return true;
}

void ArenaBot::finish(Stats& s) {
  // Never acknowledged: counted, and recorded with the time waited so far (a lower bound),
  // so a server that stops answering cannot improve its percentiles.
  const auto now = Clock::now();
  schedule_.stop([&](Clock::time_point due) {
    if (!w_.window.contains(due)) return;
    ++s.unacked;
    const auto us = micros(now - due);
    s.latency_us.record(us);
    s.input_latency_us.record(us);
  });
  s.state_rate.push_back(static_cast<double>(state_in_window_) / opts().duration_s);
}

}  // namespace mtown::loadtest
