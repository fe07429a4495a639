// Churn bots: an arena room of --room-size whose players keep losing their connection.
// Slot 0 creates the room, the others join, the arena starts when full and the host
// restarts it when a match ends. Once its game started, each bot drops its connection
// (a TCP reset, no close frame) about --churn-rate times a second, seeded, only inside the
// window, and resumes with its token and last seq; the next drop is timed from the resume.
#include "scenarios.hpp"

namespace mtown::loadtest {

void ChurnBot::on_open() { create_or_join("arena"); }

void ChurnBot::on_message(const json& m, Clock::time_point) {
  const auto type = m.value("type", "");
  if (type == "room_joined" && slot_ == 0) {
    publish_room_code(m["room"].value("code", ""));
  } else if (type == "game_started") {
    mark_ready();
    if (!started_) started_ = true, arm();
  } else if (type == "resumed") {
    arm();
  } else if (type == "game_over") {
    if (slot_ == 0 && sending_) send({{"type", "restart_game"}});
  } else if (type == "room_state") {
    if (started_ && room_full_and_waiting(m)) send({{"type", "start_game"}});
  } else if (type == "error") {
    count_error(m.value("code", "?"));
  }
}

// Arena state, 60 a second: Bot has checked its seq; nothing else to read.
bool ChurnBot::on_fast(std::string_view msg, Clock::time_point) {
  return (msgpack() ? scan_msgpack_state(msg, 0) : scan_json_state(msg, 0)).has_value();
}

void ChurnBot::arm() {
  // Uniform in [0.5, 1.5] periods: the bots of a room do not all drop at once.
  const double s = std::uniform_real_distribution<>(0.5, 1.5)(rng_) / opts().churn_rate;
  timer_.expires_after(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s)));
  timer_.async_wait([self = std::static_pointer_cast<ChurnBot>(shared_from_this())](boost::system::error_code ec) {
    if (ec || !self->sending_) return;
    if (!self->in_window(Clock::now()) || !self->drop_and_resume()) self->arm();  // not yet (or not now): later
  });
}

}  // namespace mtown::loadtest
