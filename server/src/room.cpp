#include "mtown/server/room.hpp"

#include <algorithm>

#include <boost/asio/post.hpp>

#include "mtown/core/log.hpp"
#include "mtown/server/live_state.hpp"

namespace mtown::server {
namespace {

using core::ErrorCode;
using core::ServerType;
using core::with_rid;
using nlohmann::json;



}  // namespace

Room::Room(Executor strand, RoomSettings settings, OnClosed on_closed, const RoomServices* services)
    : strand_(std::move(strand)),
      settings_(std::move(settings)),
      input_parser_(games::input_text_parser(settings_.game)),
      on_closed_(std::move(on_closed)),
      created_at_ms_(core::epoch_ms()),
      services_(services),
      empty_timer_(strand_),
      ttl_timer_(strand_) {
  summary_ = {settings_.code, settings_.game, 0, settings_.max_players, settings_.is_public, "waiting", created_at_ms_};
}

void Room::start() {
  net::post(strand_, [self = shared_from_this()] {
    self->ttl_timer_.expires_after(self->settings_.ttl);
    self->ttl_timer_.async_wait([weak = std::weak_ptr<Room>(self)](boost::system::error_code ec) {
      if (auto room = weak.lock(); room && !ec) room->do_close(RoomCloseReason::expired);
    });
    self->arm_empty_timer();  // a room nobody joins closes like an emptied one
    self->report_live();
  });
}

void Room::join(std::shared_ptr<RoomMember> member, std::string player_id, std::string name, json rid) {
  net::post(strand_, [self = shared_from_this(), member = std::move(member), id = std::move(player_id),
                      name = std::move(name), rid = std::move(rid)]() mutable {
    self->do_join(member, std::move(id), std::move(name), rid);
  });
}

void Room::leave(std::string player_id, std::shared_ptr<RoomMember> requester, json rid) {
  net::post(strand_, [self = shared_from_this(), id = std::move(player_id), requester = std::move(requester),
                      rid = std::move(rid)] { self->do_leave(id, requester, rid); });
}

void Room::chat(std::string player_id, std::string text, std::shared_ptr<RoomMember> requester, json rid) {
  net::post(strand_, [self = shared_from_this(), id = std::move(player_id), text = std::move(text),
                      requester = std::move(requester), rid = std::move(rid)] {
    const auto it = self->find_member(id);
    if (it == self->members_.end()) {
      requester->deliver(core::encode_error(ErrorCode::not_in_room, "you are not in this room", rid));
      return;
    }
    self->broadcast(core::encode_message(ServerType::chat, {{"code", self->settings_.code},
                                                            {"from", id},
                                                            {"name", it->name},
                                                            {"text", text},
                                                            {"ts_ms", core::epoch_ms()}}));
  });
}

void Room::close(RoomCloseReason reason, std::function<void()> done) {
  net::post(strand_, [self = shared_from_this(), reason, done = std::move(done)] {
    self->do_close(reason);
    if (done) done();
  });
}

void Room::set_connected(std::string player_id, bool connected) {
  net::post(strand_, [self = shared_from_this(), id = std::move(player_id), connected] {
    self->do_set_connected(id, connected);
  });
}

void Room::resync(std::shared_ptr<RoomMember> member, std::string player_id) {
  net::post(strand_, [self = shared_from_this(), member = std::move(member), id = std::move(player_id)] {
    self->do_resync(member, id);
  });
}

RoomSummary Room::summary() const {
  std::lock_guard lock(summary_mutex_);
  return summary_;
}

void Room::do_join(const std::shared_ptr<RoomMember>& member, std::string player_id, std::string name,
                   const json& rid) {
  const auto refuse = [&](ErrorCode code, std::string_view why) {
    member->deliver(core::encode_error(code, why, rid));
    member->on_left_room(this);
  };
  if (closed_) return refuse(ErrorCode::room_closed, "the room has closed");
  if (status_ != RoomStatus::waiting) return refuse(ErrorCode::game_in_progress, "the room's game has started");
  if (find_member(player_id) != members_.end()) return refuse(ErrorCode::already_in_room, "already in this room");
  if (static_cast<int>(members_.size()) >= settings_.max_players)
    return refuse(ErrorCode::room_full, "the room has " + std::to_string(settings_.max_players) + " players");

  empty_timer_.cancel();
  members_.push_back({std::move(player_id), std::move(name), member});
  const Member& joined = members_.back();
  publish_summary();
  core::log_info("player_joined", {{"room", settings_.code}, {"player", joined.player_id}, {"players", members_.size()}});

  member->deliver(core::encode_message(ServerType::room_joined, with_rid({{"you", joined.player_id}, {"room", room_json()}}, rid)));
  broadcast(core::encode_message(ServerType::player_joined, {{"code", settings_.code}, {"player", player_json(joined)}}),
            joined.player_id);
  broadcast(core::encode_message(ServerType::room_state, {{"room", room_json()}}));
  // Action games start as soon as every seat is taken; turn-based ones wait for the host.
  if (settings_.game == "arena" && static_cast<int>(members_.size()) == settings_.max_players)
    do_start_game(json::object(), nullptr, nullptr);
}

void Room::do_leave(const std::string& player_id, const std::shared_ptr<RoomMember>& requester, const json& rid) {
  const auto it = find_member(player_id);
  if (it == members_.end()) {
    if (requester) requester->deliver(core::encode_error(ErrorCode::not_in_room, "you are not in this room", rid));
    return;
  }
  if (!requester && take_over_seat(*it)) return;  // a grace that ran out, in an ai_takeover room
  const Member* old_host = host();
  const bool was_host = old_host && old_host->player_id == player_id;
  if (runner_ && status_ == RoomStatus::active)
    if (const auto seat = runner_->seat_of(player_id)) runner_->submit(*seat, 0, core::leave_input_data());
  members_.erase(it);
  report_left(player_id, !requester);
  publish_summary();
  core::log_info("player_left", {{"room", settings_.code}, {"player", player_id}, {"players", members_.size()},
                                 {"reason", requester ? "left" : "disconnected"}});
  if (requester)
    requester->deliver(core::encode_message(ServerType::room_left, with_rid({{"code", settings_.code}}, rid)));
  if (human_count() == 0) return arm_empty_timer();

  broadcast(core::encode_message(ServerType::player_left, {{"code", settings_.code},
                                                           {"player_id", player_id},
                                                           {"reason", requester ? "left" : "disconnected"}}));
  if (was_host)
    broadcast(core::encode_message(ServerType::host_changed, {{"code", settings_.code}, {"host", host()->player_id}}));
  broadcast(core::encode_message(ServerType::room_state, {{"room", room_json()}}));
}

void Room::do_set_connected(const std::string& player_id, bool connected) {
  const auto it = find_member(player_id);
  if (closed_ || it == members_.end() || it->connected == connected) return;
  it->connected = connected;
  core::log_info(connected ? "player_reconnected" : "player_disconnected",
                 {{"room", settings_.code}, {"player", player_id}});
  broadcast(core::encode_message(connected ? ServerType::player_reconnected : ServerType::player_disconnected,
                                 {{"code", settings_.code}, {"player_id", player_id}}),
            player_id);
  // The returning player gets the room_state too (it shows them back); the one who dropped
  // does not get news of their own absence in their replay.
  broadcast(core::encode_message(ServerType::room_state, {{"room", room_json()}}), connected ? "" : player_id);
  report_live();  // room:{code} and player:{id} show the connection state
}

void Room::do_close(RoomCloseReason reason) {
  if (closed_) return;
  closed_ = true;
  if (runner_) runner_->stop();
  empty_timer_.cancel();
  ttl_timer_.cancel();
  if (!members_.empty() && reason != RoomCloseReason::empty)
    broadcast(core::encode_message(ServerType::room_closed, {{"code", settings_.code}, {"reason", close_reason_name(reason)}}));
  for (const auto& m : members_)
    if (auto sink = m.sink.lock()) sink->on_left_room(this);
  members_.clear();
  publish_summary();
  core::log_info("room_closed", {{"room", settings_.code}, {"reason", close_reason_name(reason)}});
  if (services_ && services_->live) services_->live->room_closed(settings_.code, close_reason_name(reason));
  on_closed_(*this);
}

void Room::broadcast(const core::SharedMessage& message, const std::string& except_player) {
  for (const auto& m : members_)
    if (m.player_id != except_player)
      if (auto sink = m.sink.lock()) sink->deliver(message);
}

json Room::player_json(const Member& m) const {
  return {{"id", m.player_id}, {"name", m.name}, {"is_host", &m == host()}, {"connected", m.connected}, {"ai", m.ai}};
}

const Room::Member* Room::host() const {
  for (const auto& m : members_)
    if (!m.ai) return &m;
  return nullptr;
}

std::size_t Room::human_count() const {
  return static_cast<std::size_t>(std::count_if(members_.begin(), members_.end(), [](const Member& m) { return !m.ai; }));
}

std::string Room::status_name() const {
  switch (status_) {
    case RoomStatus::waiting: return "waiting";
    case RoomStatus::active: return "active";
    case RoomStatus::completed: return "completed";
  }
  return "waiting";
}

json Room::room_json() const {
  json players = json::array();
  for (const auto& m : members_) players.push_back(player_json(m));
  return {{"code", settings_.code},
          {"game", settings_.game},
          {"max_players", settings_.max_players},
          {"public", settings_.is_public},
          {"status", status_name()},
          {"host", host() ? host()->player_id : ""},
          {"players", std::move(players)},
          {"created_at_ms", created_at_ms_},
          {"expires_at_ms", created_at_ms_ + std::chrono::milliseconds(settings_.ttl).count()}};
}

void Room::publish_summary() {
  {
    std::lock_guard lock(summary_mutex_);
    summary_.players = static_cast<int>(members_.size());
    summary_.status = closed_ ? "closed" : status_name();
  }
  report_live();
}

void Room::arm_empty_timer() {
  empty_timer_.expires_after(settings_.empty_grace);
  empty_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (auto room = weak.lock(); room && !ec && room->human_count() == 0) room->do_close(RoomCloseReason::empty);
  });
}

std::vector<Room::Member>::iterator Room::find_member(const std::string& player_id, std::size_t hint) {
  if (hint < members_.size() && members_[hint].player_id == player_id)
    return members_.begin() + static_cast<std::ptrdiff_t>(hint);
  return std::find_if(members_.begin(), members_.end(), [&](const Member& m) { return m.player_id == player_id; });
}

}  // namespace mtown::server
