// Room: starting, feeding and finishing its games. Same strand and invariants as room.cpp.
#include <algorithm>

#include <boost/asio/post.hpp>
#include <random>

#include "mtown/core/ids.hpp"
#include "mtown/core/json_reader.hpp"
#include "mtown/core/log.hpp"
#include "mtown/games/registry.hpp"
#include "mtown/server/live_state.hpp"
#include "mtown/server/room.hpp"
#include "mtown/store/record_writer.hpp"

namespace mtown::server {
namespace {

using core::ErrorCode;
using core::ServerType;
using nlohmann::json;

std::uint64_t fresh_seed() {
  std::random_device rd;
  return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}

void reply_error(const std::shared_ptr<RoomMember>& to, ErrorCode code, std::string_view message, const json& rid,
                 std::string_view field = {}) {
  if (to) to->deliver(core::encode_error(code, message, rid, field));
}

// A refused input names its input_seq (error.json).
void refuse_input(const std::shared_ptr<RoomMember>& to, ErrorCode code, std::string_view message, const json& rid,
                  std::uint64_t input_seq) {
  if (to) to->deliver(core::encode_error(code, message, rid, {}, input_seq));
}

}  // namespace

void Room::start_game(std::string player_id, json options, std::shared_ptr<RoomMember> requester, json rid) {
  net::post(strand_, [self = shared_from_this(), id = std::move(player_id), options = std::move(options),
                      requester = std::move(requester), rid = std::move(rid)] {
    if (self->refuse_unless_host(id, requester, rid)) return;
    self->do_start_game(options, requester, rid);
  });
}

void Room::add_ai(std::string player_id, core::AiDifficulty difficulty, std::shared_ptr<RoomMember> requester, json rid) {
  net::post(strand_, [self = shared_from_this(), id = std::move(player_id), difficulty, requester = std::move(requester),
                      rid = std::move(rid)] {
    if (self->refuse_unless_host(id, requester, rid)) return;
    if (self->status_ != RoomStatus::waiting)
      return reply_error(requester, ErrorCode::game_in_progress, "AI players join before the game starts", rid);
    if (static_cast<int>(self->members_.size()) >= self->settings_.max_players)
      return reply_error(requester, ErrorCode::room_full, "no free seat for an AI player", rid);
    self->do_add_ai(difficulty);
  });
}

void Room::restart_game(std::string player_id, std::shared_ptr<RoomMember> requester, json rid) {
  net::post(strand_, [self = shared_from_this(), id = std::move(player_id), requester = std::move(requester),
                      rid = std::move(rid)] {
    if (self->refuse_unless_host(id, requester, rid)) return;
    if (self->status_ != RoomStatus::completed)
      return reply_error(requester, self->status_ == RoomStatus::active ? ErrorCode::game_in_progress
                                                                       : ErrorCode::game_not_started,
                         "only a finished game can be restarted", rid);
    self->status_ = RoomStatus::waiting;
    self->publish_summary();
    self->broadcast(core::encode_message(ServerType::room_state, {{"room", self->room_json()}}));
  });
}

void Room::input(std::string player_id, std::uint64_t input_seq, json data, std::shared_ptr<RoomMember> requester,
                 json rid) {
  net::post(strand_, [self = shared_from_this(), id = std::move(player_id), input_seq, data = std::move(data),
                      requester = std::move(requester), rid = std::move(rid)]() mutable {
    self->do_input(id, input_seq, std::move(data), requester, rid);
  });
}

void Room::input_parsed(std::string player_id, std::uint64_t input_seq, core::ParsedInput parsed,
                        std::string_view data_text, std::shared_ptr<RoomMember> requester) {
  // The services are the room's for its life, so this is known before the post: an
  // unrecorded room copies no text per input.
  const bool recorded = services_ && (services_->recording || services_->mtrec);
  net::post(strand_, [self = shared_from_this(), id = std::move(player_id), input_seq, parsed,
                      text = recorded ? std::string(data_text) : std::string(), requester = std::move(requester)] {
    self->do_input_parsed(id, input_seq, parsed, text, requester);
  });
}

bool Room::refuse_unless_host(const std::string& player_id, const std::shared_ptr<RoomMember>& requester,
                              const json& rid) {
  if (find_member(player_id) == members_.end()) {
    reply_error(requester, ErrorCode::not_in_room, "you are not in this room", rid);
    return true;
  }
  const Member* h = host();
  if (!h || h->player_id != player_id) {
    reply_error(requester, ErrorCode::not_host, "only the host may do that", rid);
    return true;
  }
  return false;
}

void Room::do_add_ai(core::AiDifficulty difficulty) {
  ++ai_count_;
  Member ai{core::random_id("ai_"),
            "Robot " + std::to_string(ai_count_) + " (" + std::string(core::ai_difficulty_name(difficulty)) + ")",
            {}, true, difficulty};
  members_.push_back(std::move(ai));
  publish_summary();
  broadcast(core::encode_message(ServerType::player_joined, {{"code", settings_.code}, {"player", player_json(members_.back())}}));
  broadcast(core::encode_message(ServerType::room_state, {{"room", room_json()}}));
}

// The seat of a player whose grace ran out, in a running game of an ai_takeover room: the
// member stays, played by the AI (same id, name, score); false when it is simply released.
bool Room::take_over_seat(Member& member) {
  if (!settings_.ai_takeover || member.ai || !runner_ || status_ != RoomStatus::active || runner_->finished())
    return false;
  const auto seat = runner_->seat_of(member.player_id);
  if (!seat) return false;
  const bool was_host = host() == &member;
  runner_->take_over(*seat, *settings_.ai_takeover);
  member.ai = true;
  member.difficulty = *settings_.ai_takeover;
  member.connected = true;
  member.sink.reset();
  report_left(member.player_id, /*disconnected=*/true);  // the human is gone; the AI is not mirrored
  publish_summary();
  core::log_info("seat_taken_over", {{"room", settings_.code}, {"player", member.player_id}, {"seat", *seat},
                                     {"difficulty", core::ai_difficulty_name(member.difficulty)}});
  if (human_count() == 0) {
    arm_empty_timer();
    return true;
  }
  if (was_host)
    broadcast(core::encode_message(ServerType::host_changed, {{"code", settings_.code}, {"host", host()->player_id}}));
  broadcast(core::encode_message(ServerType::room_state, {{"room", room_json()}}));
  return true;
}

void Room::do_start_game(const json& options, const std::shared_ptr<RoomMember>& requester, const json& rid) {
  if (status_ != RoomStatus::waiting)
    return reply_error(requester, ErrorCode::game_in_progress,
                       status_ == RoomStatus::active ? "the game is running" : "restart_game first", rid);
  if (!services_) return reply_error(requester, ErrorCode::internal, "this room cannot run games", rid);
  // A refused start changes nothing: the AI fill (counted here) joins only once the
  // options are accepted.
  const int seats = settings_.ai_fill ? std::max(settings_.max_players, static_cast<int>(members_.size()))
                                      : static_cast<int>(members_.size());
  if (seats < 2) return reply_error(requester, ErrorCode::not_enough_players, "a game needs 2 players; add_ai can fill seats", rid);

  GameSetup setup{settings_.code, settings_.game, core::random_id("g_"), fresh_seed(), {}, {}, nullptr, 60, {}};
  std::unique_ptr<core::Game> game;
  try {
    core::Rng setup_rng(setup.seed ^ 0x5EEDu);  // drawn apart from the game's own stream
    setup.options = games::prepare_options(settings_.game, options, services_->questions, setup_rng);
    game = games::create_game(settings_.game, setup.options);
  } catch (const std::invalid_argument& e) {
    return reply_error(requester, ErrorCode::bad_message, e.what(), rid, "/options");
  }
  if (settings_.ai_fill)
    while (static_cast<int>(members_.size()) < settings_.max_players) do_add_ai(*settings_.ai_fill);
  for (const auto& m : members_) setup.seats.push_back({m.player_id, m.name, m.ai, m.difficulty});
  auto recorders = std::make_shared<core::RecorderList>();
  if (services_->recording)
    recorders->add(services_->recording->recorder({settings_.max_players, host() ? host()->player_id : std::string()}));
  if (services_->mtrec) recorders->add(services_->mtrec->recorder());
  if (!recorders->empty()) setup.recorder = std::move(recorders);
  setup.hash_every = services_->hash_every;
  setup.debug_tick_delay = services_->debug_tick_delay;
  status_ = RoomStatus::active;
  publish_summary();
  runner_ = std::make_shared<GameRunner>(strand_, std::move(setup), std::move(game), static_cast<GameHost&>(*this),
                                         services_->metrics, services_->tick_lanes);
  runner_->start();
  report_game_started();
  broadcast(core::encode_message(ServerType::room_state, {{"room", room_json()}}));
}

std::optional<std::uint32_t> Room::input_seat(const std::string& player_id, std::uint64_t input_seq,
                                              const std::shared_ptr<RoomMember>& requester, const json& rid) {
  const auto refuse = [&](ErrorCode code, std::string_view message) {
    refuse_input(requester, code, message, rid, input_seq);
    return std::nullopt;
  };
  const std::uint64_t hint = requester ? requester->input_hint.load(std::memory_order_relaxed) : ~std::uint64_t{0};
  const auto member = find_member(player_id, static_cast<std::size_t>(hint >> 32));
  if (member == members_.end()) return refuse(ErrorCode::not_in_room, "you are not in this room");
  if (status_ != RoomStatus::active || !runner_)
    return refuse(ErrorCode::game_not_started, status_ == RoomStatus::completed ? "the game is over" : "the game has not started");
  const auto seat = runner_->seat_of(player_id, static_cast<std::uint32_t>(hint));
  if (!seat) return refuse(ErrorCode::not_a_player, "you have no seat in this game");
  if (requester)
    requester->input_hint.store(static_cast<std::uint64_t>(member - members_.begin()) << 32 | *seat, std::memory_order_relaxed);
  return seat;
}

void Room::do_input(const std::string& player_id, std::uint64_t input_seq, json data,
                    const std::shared_ptr<RoomMember>& requester, const json& rid) {
  const auto seat = input_seat(player_id, input_seq, requester, rid);
  if (!seat) return;
  const auto refuse = [&](ErrorCode code, std::string_view message) {
    refuse_input(requester, code, message, rid, input_seq);
  };
  const auto& game = runner_->game();
  core::GameInput in{*seat, input_seq, std::move(data)};
  if (auto bad = game.check_input(in)) return refuse(bad->code, bad->message);
  // Both games take only a string action, so validation has checked it is one.
  const auto it = in.data.find("action");
  const std::string_view action =
      it != in.data.end() && it->is_string() ? std::string_view(it->get_ref<const std::string&>()) : std::string_view();
  if (action == "leave") return refuse(ErrorCode::bad_message, "leave the room with leave_room");
  if (action == "ai_takeover")
    return refuse(ErrorCode::bad_message, "ai_takeover is the room's, when a seat's grace runs out");
  if (game.is_host_action(in.data) && (!host() || host()->player_id != player_id))
    return refuse(ErrorCode::not_host, "only the host may do that");
  if (services_->live) services_->live->player_active(player_id);
  runner_->submit(std::move(in), rid);
}

// What the fast parser accepts is a move, attack or ability: no leave, no takeover and no
// host action, so only the seat is left to check.
void Room::do_input_parsed(const std::string& player_id, std::uint64_t input_seq, core::ParsedInput parsed,
                           std::string_view data_text, const std::shared_ptr<RoomMember>& requester) {
  const auto seat = input_seat(player_id, input_seq, requester, json());
  if (!seat) return;
  // A recording keeps the data as sent; replay parses it as the general path would.
  core::GameInput in{*seat, input_seq, runner_->setup().recorder ? core::read_json(data_text).value_or(json()) : json()};
  in.parsed = parsed;
  if (services_->live) services_->live->player_active(player_id);
  runner_->submit(std::move(in), json());
}

void Room::send_to_seat(std::uint32_t seat, const core::SharedMessage& message) {
  if (!runner_ || seat >= runner_->setup().seats.size()) return;
  const auto it = find_member(runner_->setup().seats[seat].player_id);
  if (it == members_.end()) return;
  if (auto sink = it->sink.lock()) sink->deliver(message);
}

void Room::game_over(const json& result) {
  status_ = RoomStatus::completed;
  publish_summary();
  core::log_info("game_over", {{"room", settings_.code}, {"game_id", runner_->setup().game_id}, {"winner", result.value("winner", json())}});
  broadcast(game_over_message(result));
  broadcast(core::encode_message(ServerType::room_state, {{"room", room_json()}}));
}

core::SharedMessage Room::game_over_message(const json& result) const {
  return core::encode_message(ServerType::game_over, {{"code", settings_.code},
                                                      {"game_id", runner_->setup().game_id},
                                                      {"tick", runner_->tick()},
                                                      {"result", result}});
}

void Room::do_resync(const std::shared_ptr<RoomMember>& member, const std::string& player_id) {
  if (closed_ || find_member(player_id) == members_.end()) return;
  member->deliver(core::encode_message(ServerType::room_state, {{"room", room_json()}}));
  if (!runner_ || status_ == RoomStatus::waiting) return;
  member->deliver(runner_->started_message(/*with_tick=*/true));
  if (status_ == RoomStatus::completed) member->deliver(game_over_message(runner_->game().result()));
}

}  // namespace mtown::server
