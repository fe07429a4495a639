#include "playback.hpp"

#include <boost/asio/post.hpp>

#include "mtown/core/config.hpp"
#include "mtown/core/log.hpp"

namespace mtown::replay {
namespace {

using nlohmann::json;

server::GameSetup setup_of(const core::RecordingHeader& h) {
  return {h.room_code, h.game, h.game_id, h.seed, h.options, h.seats, nullptr, h.hash_every};
}

}  // namespace

Playback::Playback(net::io_context& ioc, const core::Recording& recording, double speed)
    : strand_(net::make_strand(ioc)),
      setup_(setup_of(recording.header)),
      replayer_(recording),
      speed_(speed),
      timer_(strand_) {}

void Playback::join(std::shared_ptr<Watcher> watcher) {
  net::post(strand_, [self = shared_from_this(), watcher = std::move(watcher)] { self->do_join(watcher); });
}

void Playback::leave(const Watcher* watcher) {
  net::post(strand_, [self = shared_from_this(), watcher] { self->watchers_.erase(watcher); });
}

void Playback::stop() {
  net::post(strand_, [self = shared_from_this()] {
    self->stopped_ = true;
    self->timer_.cancel();
    self->watchers_.clear();
  });
}

// The room as a watcher sees it: the seats are its players, the first human its host.
core::SharedMessage Playback::room_state() const {
  const auto& seats = setup_.seats;
  std::size_t host = 0;
  while (host < seats.size() && seats[host].ai) ++host;
  if (host == seats.size()) host = 0;
  json players = json::array();
  for (std::size_t i = 0; i < seats.size(); ++i)
    players.push_back({{"id", seats[i].player_id}, {"name", seats[i].name}, {"is_host", i == host},
                       {"connected", true}, {"ai", seats[i].ai}});
  const auto started = replayer_.header().started_at_ms;
  json room{{"code", setup_.code}, {"game", setup_.game}, {"max_players", std::max<std::size_t>(2, seats.size())},
            {"public", false}, {"status", game_over_ ? "completed" : "active"},
            {"host", seats.empty() ? json("") : json(seats[host].player_id)}, {"players", std::move(players)},
            {"created_at_ms", started},
            {"expires_at_ms", started + std::int64_t{core::ServeConfig{}.room_ttl_s} * 1000}};  // the default rooms.ttl_s
  return core::encode_message(core::ServerType::room_state, {{"room", std::move(room)}});
}

void Playback::do_join(const std::shared_ptr<Watcher>& watcher) {
  if (stopped_) return;
  watchers_[watcher.get()] = watcher;
  watcher->deliver(room_state());
  // A late watcher's snapshot says its tick, like a resumed client's.
  watcher->deliver(server::game_started_message(setup_, replayer_.game(),
                                                started_ ? std::optional<core::Tick>(replayer_.tick()) : std::nullopt));
  if (game_over_) watcher->deliver(game_over_);
  if (started_) return;
  started_ = true;
  started_at_ = std::chrono::steady_clock::now();
  core::log_info("playback_started", {{"game_id", setup_.game_id}, {"speed", speed_}});
  schedule();
}

std::chrono::steady_clock::time_point Playback::due(core::Tick tick) const {
  const auto hz = replayer_.header().tick_hz;
  const double game_ns = hz > 0 ? static_cast<double>(tick) * 1e9 / hz : static_cast<double>(tick) * 1e6;
  return started_at_ + std::chrono::nanoseconds(static_cast<std::int64_t>(game_ns / speed_));
}

void Playback::schedule() {
  if (stopped_) return;
  if (replayer_.done()) return finish();
  timer_.expires_at(due(replayer_.next_tick()));
  timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->on_timer();
  });
}

void Playback::on_timer() {
  if (stopped_) return;
  const auto now = std::chrono::steady_clock::now();
  try {
    for (int n = 0; n < kMaxStepsPerWake && !replayer_.done() && due(replayer_.next_tick()) <= now; ++n) {
      const auto* step = replayer_.next();
      if (!step) break;
      auto out = step->out;
      if (auto msg = server::state_message(setup_.code, step->tick, out, replayer_.game())) broadcast(msg);
    }
  } catch (const core::RecordingError& e) {  // a damaged record mid-file: play no further
    core::log_error("replay_failed", {{"game_id", setup_.game_id}, {"tick", replayer_.tick()}, {"error", e.what()}});
    finished_ = true;
    return;
  }
  schedule();
}

void Playback::finish() {
  if (finished_) return;
  finished_ = true;
  if (const auto& d = replayer_.divergence()) {
    core::log_error("replay_diverged", {{"game_id", setup_.game_id}, {"tick", d->tick}, {"what", d->what}});
    return;
  }
  const auto* end = replayer_.end();
  core::log_info("playback_finished", {{"game_id", setup_.game_id}, {"tick", replayer_.tick()},
                                       {"status", end ? end->status : "incomplete"}});
  if (!end || end->status != "completed") return;
  game_over_ = core::encode_message(core::ServerType::game_over, {{"code", setup_.code},
                                                                   {"game_id", setup_.game_id},
                                                                   {"tick", end->tick},
                                                                   {"result", end->result}});
  broadcast(game_over_);
  broadcast(room_state());
}

void Playback::broadcast(const core::SharedMessage& message) {
  for (auto it = watchers_.begin(); it != watchers_.end();) {
    if (auto w = it->second.lock()) {
      w->deliver(message);
      ++it;
    } else {
      it = watchers_.erase(it);
    }
  }
}

}  // namespace mtown::replay
