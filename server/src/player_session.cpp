#include "mtown/server/player_session.hpp"

#include <boost/asio/post.hpp>

#include "mtown/core/ids.hpp"
#include "mtown/core/log.hpp"
#include "mtown/server/session_registry.hpp"

namespace mtown::server {

using Clock = std::chrono::steady_clock;

PlayerSession::PlayerSession(Executor strand, SessionLimits limits, SessionRegistry& registry, std::string player)
    : session_id(core::random_id("s_")),
      player_id(player.empty() ? core::random_id("p_") : std::move(player)),
      resume_token(core::random_token("r_")),
      strand_(std::move(strand)),
      limits_(limits),
      registry_(registry),
      grace_timer_(strand_) {}

void PlayerSession::on_left_room(const Room* room) { clear_room(room); }

// Every call out but wake (superseded, room notices, timer work) only posts, and is made
// under the mutex, so the strands receive them in the order the session's state changed.
// wake is made after the mutex is released: with one io thread the connection takes and
// writes at once, inside the call (WsSession::wake). Its order does not matter: a
// connection that is no longer attached takes nothing.

void PlayerSession::push(const core::SharedMessage& message, bool wake) {
  std::shared_ptr<SessionConnection> conn;
  bool taken = false;
  std::uint64_t seq = 0;
  {
    std::lock_guard lock(mutex_);
    push_locked(message, Clock::now());
    seq = last_seq_;
    if (wake && attached_raw_ && !wake_pending_) {
      conn = attached_.lock();
      // A caught-up connection on this thread gets the message handed over: no take(), no
      // second lock (docs/performance.md, "Ticks on a shared grid").
      taken = conn && attached_cursor_ + 1 == seq && conn->takes_inline();
      if (taken) attached_cursor_ = seq;
      else wake_pending_ = conn != nullptr;
    }
  }
  if (taken) conn->take_one(message, seq);
  else if (conn) conn->wake();
}

void PlayerSession::push_locked(const core::SharedMessage& message, Clock::time_point now) {
  log_.push_back({++last_seq_, message, now});
  trim_locked(now, /*keep_untaken=*/attached_raw_ != nullptr);
}

void PlayerSession::trim_locked(Clock::time_point now, bool keep_untaken) {
  // What the attached connection has not taken yet always stays: it is on its way out.
  while (!log_.empty() && (log_.size() > limits_.buffer_messages || now - log_.front().at > limits_.buffer_age) &&
         (!keep_untaken || log_.front().seq <= attached_cursor_))
    log_.pop_front();
}

bool PlayerSession::take(const SessionConnection* conn, std::uint64_t& cursor, std::vector<Logged>& out) {
  std::lock_guard lock(mutex_);
  if (conn != attached_raw_ || conn == nullptr) return false;
  wake_pending_ = false;
  if (cursor < last_seq_ && !log_.empty()) {
    // Entries are consecutive, so the first one after the cursor is found by arithmetic.
    const std::uint64_t first = log_.front().seq;
    const std::size_t from = cursor + 1 > first ? static_cast<std::size_t>(cursor + 1 - first) : 0;
    for (std::size_t i = from; i < log_.size(); ++i) out.push_back({log_[i].seq, log_[i].message});
  }
  cursor = last_seq_;
  attached_cursor_ = cursor;
  trim_locked(Clock::now(), true);
  return true;
}

void PlayerSession::attach_first(std::weak_ptr<SessionConnection> conn) {
  std::lock_guard lock(mutex_);
  attached_raw_ = conn.lock().get();
  attached_ = std::move(conn);
  ++generation_;
}

std::optional<PlayerSession::Resume> PlayerSession::resume(std::weak_ptr<SessionConnection> conn, std::uint64_t last_seq,
                                                           const ResumedBuilder& make_resumed) {
  Resume r;
  std::lock_guard lock(mutex_);
  if (ended_) return std::nullopt;
  auto previous = attached_.lock();
  const bool was_detached = attached_raw_ == nullptr;
  const auto now = Clock::now();
  trim_locked(now, /*keep_untaken=*/false);  // the old connection's backlog ages like the rest
  const std::uint64_t first = log_.empty() ? last_seq_ + 1 : log_.front().seq;
  r.snapshot = last_seq > last_seq_ || last_seq + 1 < first;
  r.replayed = r.snapshot ? 0 : last_seq_ - last_seq;
  r.cursor = r.snapshot ? last_seq_ : last_seq;
  r.room = room_;
  attached_raw_ = conn.lock().get();
  attached_ = std::move(conn);
  attached_cursor_ = r.cursor;  // before `resumed` goes in: the replay must not be trimmed
  wake_pending_ = false;
  ++generation_;
  push_locked(make_resumed(r), now);
  net::post(strand_, [self = shared_from_this()] { self->grace_timer_.cancel(); });
  if (previous) previous->superseded();
  if (r.room && was_detached) r.room->set_connected(player_id, true);
  // The fresh snapshot is built on the room's strand, in order with the room's broadcasts.
  if (r.room && r.snapshot) r.room->resync(shared_from_this(), player_id);
  return r;
}

void PlayerSession::detach(const SessionConnection* conn) {
  std::lock_guard lock(mutex_);
  if (conn != attached_raw_ || conn == nullptr || ended_) return;  // superseded: the new connection owns it
  attached_.reset();
  attached_raw_ = nullptr;
  wake_pending_ = false;
  const std::uint64_t generation = ++generation_;
  if (room_ && limits_.seat_grace.count() > 0) {
    room_->set_connected(player_id, false);
    arm_grace(generation, limits_.seat_grace);
  } else {
    // Without a seat to keep, the session waits only as long as its log is useful.
    arm_grace(generation, room_ ? std::chrono::milliseconds(0) : limits_.buffer_age);
  }
}

void PlayerSession::arm_grace(std::uint64_t generation, std::chrono::milliseconds after) {
  net::post(strand_, [self = shared_from_this(), generation, after] {
    if (after.count() == 0) return self->on_grace_over(generation);
    self->grace_timer_.expires_after(after);
    self->grace_timer_.async_wait([self, generation](boost::system::error_code ec) {
      if (!ec) self->on_grace_over(generation);
    });
  });
}

void PlayerSession::on_grace_over(std::uint64_t generation) {
  std::shared_ptr<Room> room;
  {
    std::lock_guard lock(mutex_);
    if (generation != generation_ || attached_raw_ || ended_) return;  // resumed since
    ended_ = true;
    room = std::move(room_);
    log_.clear();
  }
  registry_.remove(*this);
  if (room) {
    registry_.metrics().seats_released.inc();
    core::log_info("seat_released", {{"room", room->code()}, {"player", player_id}, {"session", session_id}});
    room->leave(player_id, nullptr, nullptr);
  }
}

std::shared_ptr<Room> PlayerSession::room() const {
  std::lock_guard lock(mutex_);
  return room_;
}

void PlayerSession::set_room(std::shared_ptr<Room> room) {
  std::lock_guard lock(mutex_);
  room_ = std::move(room);
}

void PlayerSession::clear_room(const Room* room) {
  std::lock_guard lock(mutex_);
  if (room_.get() == room) room_.reset();
}

}  // namespace mtown::server
