// A player's session: identity, resume token, the `seq` counter, a log of recent messages
// and the room seat. It outlives connections: one connection at a time is attached and
// takes messages from the log; after it ends, the session waits (the seat grace) for a
// resume. Thread-safe: one mutex guards the log and the attachment (rooms push from their
// strands, connections take on theirs); the grace timer runs on the session's own strand.
#pragma once
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "mtown/core/protocol.hpp"
#include "mtown/server/room.hpp"

namespace mtown::server {

class SessionRegistry;

// The connection side, as a session sees it (WsSession). Both calls may come from any
// thread; implementations post to their own strand, except that wake may do its work at
// once when the caller already runs on the connection's thread and executor. wake is
// called without the session's mutex held, so that work may take().
class SessionConnection {
 public:
  virtual ~SessionConnection() = default;
  virtual void wake() = 0;        // the log has messages this connection has not taken
  virtual void superseded() = 0;  // a resume took the session over: close at once
  // Whether take_one may be called now: the caller runs on the connection's own thread and
  // executor (one io thread). Asked under the session's mutex: must not lock anything.
  virtual bool takes_inline() const { return false; }
  // `message`, numbered `seq`, is taken for the connection by the session, which finds it
  // caught up with the log (nothing untaken before it): the connection sends it without a
  // take(). Called without the session's mutex held.
  virtual void take_one(const core::SharedMessage& /*message*/, std::uint64_t /*seq*/) {}
};

struct SessionLimits {
  std::size_t buffer_messages = 100;
  std::chrono::milliseconds buffer_age{5000};
  std::chrono::seconds seat_grace{300};
};

class PlayerSession : public RoomMember, public std::enable_shared_from_this<PlayerSession> {
 public:
  using Executor = net::strand<net::io_context::executor_type>;
  struct Logged {
    std::uint64_t seq;
    core::SharedMessage message;
  };
  struct Resume {
    std::uint64_t replayed = 0;  // messages the connection will take before `resumed`
    bool snapshot = false;       // the gap was too old: the client needs a fresh snapshot
    std::uint64_t cursor = 0;    // the connection's starting point in the log
    std::shared_ptr<Room> room;  // the seat's room, if any
  };

  // `player_id`: the token's subject when the client authenticated; empty draws one.
  PlayerSession(Executor strand, SessionLimits limits, SessionRegistry& registry, std::string player_id = {});

  const std::string session_id;
  // Changes only when the client authenticates with its first message, before it joins a
  // room (ClientGate::authenticate refuses later), on its connection's strand.
  std::string player_id;
  const std::string resume_token;  // secret: never logged, never in a broadcast

  // RoomMember, from a room's strand: messages go to the log.
  void deliver(const core::SharedMessage& message) override { push(message); }
  void on_left_room(const Room* room) override;

  // Numbers `message` (the next seq) and logs it; wakes the attached connection if `wake`.
  void push(const core::SharedMessage& message, bool wake = true);
  // Appends to `out` the messages after `cursor` and advances it. False when `conn` is no
  // longer attached (superseded or detached): it must take nothing more.
  bool take(const SessionConnection* conn, std::uint64_t& cursor, std::vector<Logged>& out);

  // A new session's first connection.
  void attach_first(std::weak_ptr<SessionConnection> conn);
  // A resume: `conn` replaces whatever is attached (which is told `superseded`). nullopt
  // when the session has ended. Queues `resumed` (built by `make_resumed`) right after the
  // replayed messages, so the connection takes replay + resumed in one ordered run.
  using ResumedBuilder = std::function<core::SharedMessage(const Resume&)>;
  std::optional<Resume> resume(std::weak_ptr<SessionConnection> conn, std::uint64_t last_seq,
                               const ResumedBuilder& make_resumed);
  // The connection ended. If it was the attached one, the seat's grace starts.
  void detach(const SessionConnection* conn);

  std::shared_ptr<Room> room() const;
  void set_room(std::shared_ptr<Room> room);
  void clear_room(const Room* room);  // only if `room` is still the session's

 private:
  void push_locked(const core::SharedMessage& message, std::chrono::steady_clock::time_point now);
  void trim_locked(std::chrono::steady_clock::time_point now, bool keep_untaken);
  void arm_grace(std::uint64_t generation, std::chrono::milliseconds after);
  void on_grace_over(std::uint64_t generation);

  struct Entry {
    std::uint64_t seq;
    core::SharedMessage message;
    std::chrono::steady_clock::time_point at;
  };

  Executor strand_;
  SessionLimits limits_;
  SessionRegistry& registry_;
  net::steady_timer grace_timer_;  // on strand_ only

  mutable std::mutex mutex_;
  std::deque<Entry> log_;  // consecutive seqs, oldest first
  std::uint64_t last_seq_ = 0;
  std::weak_ptr<SessionConnection> attached_;
  const SessionConnection* attached_raw_ = nullptr;  // identity of attached_, null when detached
  std::uint64_t attached_cursor_ = 0;  // what the attached connection has taken
  bool wake_pending_ = false;          // a wake is posted and not yet answered by take()
  std::uint64_t generation_ = 0;       // bumped at every attach and detach; stale timers see it
  bool ended_ = false;
  std::shared_ptr<Room> room_;
};

}  // namespace mtown::server
