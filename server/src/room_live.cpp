// Room: what it reports to the node's live-state store (Redis when configured). Same
// strand and invariants as room.cpp; every call into LiveState returns at once.
#include "mtown/server/live_state.hpp"
#include "mtown/server/room.hpp"

namespace mtown::server {

using nlohmann::json;

std::string_view close_reason_name(RoomCloseReason reason) {
  switch (reason) {
    case RoomCloseReason::expired: return "expired";
    case RoomCloseReason::empty: return "empty";
    case RoomCloseReason::shutdown: return "shutdown";
    case RoomCloseReason::by_operator: return "closed_by_operator";
  }
  return "shutdown";
}

void Room::report_live() {
  LiveState* live = services_ ? services_->live : nullptr;
  if (!live || closed_) return;
  LiveRoom r;
  r.code = settings_.code;
  r.game = settings_.game;
  r.status = status_name();
  r.phase = status_ == RoomStatus::waiting                                  ? "lobby"
            : status_ == RoomStatus::completed && live_phase_ == "playing" ? "finished"
                                                                            : live_phase_;
  r.round = status_ == RoomStatus::waiting ? 0 : live_round_;
  r.max_players = settings_.max_players;
  r.is_public = settings_.is_public;
  r.host = host() ? host()->player_id : "";
  r.game_id = runner_ ? runner_->setup().game_id : "";
  for (const auto& m : members_) r.players.push_back({m.player_id, m.name, &m == host(), m.ai, m.connected});
  r.created_at_ms = created_at_ms_;
  r.expires_at_ms = created_at_ms_ + std::chrono::milliseconds(settings_.ttl).count();
  live->room_changed(r);
}

void Room::report_left(const std::string& player_id, bool disconnected) {
  if (services_ && services_->live) services_->live->player_left(settings_.code, player_id, disconnected);
}

void Room::report_game_started() {
  LiveState* live = services_ ? services_->live : nullptr;
  if (!live || !runner_) return;
  const auto& game = runner_->game();
  const json snapshot = game.snapshot();
  live_phase_ = snapshot.value("phase", "playing");
  live_round_ = snapshot.value("round", 0);
  live->clear_votes(settings_.code);
  if (game.tick_hz() == 0) live->game_snapshot(settings_.code, snapshot);
  live->room_event(settings_.code, {{"type", "game_started"}, {"game_id", runner_->setup().game_id},
                                    {"phase", live_phase_}, {"round", live_round_}});
  report_live();
}

// Phase changes (turn-based games) and votes: a vote is what the game accepted, as its
// private "vote_accepted" event says (docs/games/party.md), so Redis never counts a
// refused one.
void Room::on_step(const core::StepOutput& out) {
  LiveState* live = services_ ? services_->live : nullptr;
  if (!live || !runner_) return;
  const auto& seats = runner_->setup().seats;
  for (const auto& [seat, event] : out.private_events)
    if (event.value("event", "") == "vote_accepted" && seat < seats.size())
      live->vote(settings_.code, event.value("kind", ""), seats[seat].player_id, event.value("answer", ""));
  bool phase_changed = false;
  for (const auto& e : out.events) {
    if (e.value("event", "") != "phase") continue;
    live_phase_ = e.value("phase", live_phase_);
    live_round_ = e.value("round", live_round_);
    phase_changed = true;
    if (live_phase_ == "question") live->clear_votes(settings_.code);
    live->room_event(settings_.code, {{"type", "phase"}, {"phase", live_phase_}, {"round", live_round_}});
  }
  if (!phase_changed) return;
  if (runner_->game().tick_hz() == 0) live->game_snapshot(settings_.code, runner_->game().snapshot());
  report_live();
}

}  // namespace mtown::server
