#include "mtown/server/room_registry.hpp"

#include <algorithm>
#include <atomic>

#include "mtown/core/log.hpp"
#include "mtown/core/room_code.hpp"

namespace mtown::server {

nlohmann::json summary_json(const RoomSummary& s) {
  return {{"code", s.code}, {"game", s.game}, {"players", s.players},
          {"max_players", s.max_players}, {"status", s.status}, {"created_at_ms", s.created_at_ms}};
}

RoomRegistry::RoomRegistry(net::io_context& ioc, const core::ServeConfig& config, ServerMetrics& metrics,
                           const std::vector<games::Question>& questions)
    : ioc_(ioc),
      config_(config),
      metrics_(metrics),
      mtrec_(config.mtrec_dir.empty() ? nullptr : std::make_unique<MtrecWriter>(config.mtrec_dir)),
      tick_lanes_(static_cast<unsigned>(config.tick_lanes)),
      services_{metrics,
                questions,
                nullptr,
                nullptr,
                static_cast<std::uint32_t>(config.recording_hash_every_ticks),
                std::chrono::microseconds(config.debug_tick_delay_us),
                mtrec_.get(),
                &tick_lanes_} {}

void RoomRegistry::set_recording(std::shared_ptr<store::RecordWriter> writer) { services_.recording = std::move(writer); }

RoomRegistry::Created RoomRegistry::create(const core::GameInfo& game, int max_players, bool is_public,
                                           const std::function<void(const std::shared_ptr<Room>&)>& before_start,
                                           std::optional<core::AiDifficulty> ai_fill,
                                           std::optional<core::AiDifficulty> ai_takeover) {
  std::shared_ptr<Room> room;
  {
    std::lock_guard lock(mutex_);
    if (rooms_.size() >= static_cast<std::size_t>(config_.max_rooms)) return {nullptr, core::ErrorCode::server_full};
    std::string code;
    // Codes are random so they cannot be guessed from one's own; with the room limit far
    // below the 2^20 codes, a free one is found in a few tries.
    for (int attempt = 0; attempt < 1000 && code.empty(); ++attempt) {
      auto candidate = core::room_code_from_bits(rng_());
      if (!rooms_.contains(candidate)) code = std::move(candidate);
    }
    if (code.empty()) return {nullptr, core::ErrorCode::server_full};
    RoomSettings settings{code, std::string(game.name), max_players, is_public,
                          std::chrono::seconds(config_.room_empty_grace_s), std::chrono::seconds(config_.room_ttl_s),
                          ai_fill, ai_takeover};
    room = std::make_shared<Room>(net::make_strand(ioc_), std::move(settings),
                                  [this](const Room& r) { remove(r); }, &services_);
    rooms_.emplace(code, room);
  }
  metrics_.rooms(game.name).add(1);
  core::log_info("room_created", {{"room", room->code()}, {"game", game.name}, {"max_players", max_players}});
  if (before_start) before_start(room);
  room->start();
  return {room, core::ErrorCode::internal};
}

std::shared_ptr<Room> RoomRegistry::find(const std::string& code) const {
  std::lock_guard lock(mutex_);
  const auto it = rooms_.find(code);
  return it == rooms_.end() ? nullptr : it->second;
}

std::vector<RoomSummary> RoomRegistry::list(const RoomFilter& filter) const {
  std::vector<RoomSummary> out;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [code, room] : rooms_) {
      auto s = room->summary();
      if (filter.public_only && !s.is_public) continue;
      if (!filter.game.empty() && s.game != filter.game) continue;
      if (filter.has_space && (s.players < s.max_players) != *filter.has_space) continue;
      if (s.status == "closed") continue;
      out.push_back(std::move(s));
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.code < b.code; });
  return out;
}

std::size_t RoomRegistry::size() const {
  std::lock_guard lock(mutex_);
  return rooms_.size();
}

void RoomRegistry::close_all(RoomCloseReason reason, std::function<void()> done) {
  std::vector<std::shared_ptr<Room>> rooms;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [code, room] : rooms_) rooms.push_back(room);
  }
  if (rooms.empty()) return done();
  auto remaining = std::make_shared<std::atomic<std::size_t>>(rooms.size());
  for (const auto& room : rooms)
    room->close(reason, [remaining, done] {
      if (remaining->fetch_sub(1) == 1) done();
    });
}

void RoomRegistry::clear() {
  std::lock_guard lock(mutex_);
  rooms_.clear();
}

void RoomRegistry::remove(const Room& room) {
  bool removed = false;
  {
    std::lock_guard lock(mutex_);
    const auto it = rooms_.find(room.code());
    if (it != rooms_.end() && it->second.get() == &room) {
      rooms_.erase(it);
      removed = true;
    }
  }
  if (removed) metrics_.rooms(room.game()).add(-1);
}

}  // namespace mtown::server
