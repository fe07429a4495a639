// One bot: a WebSocket connection to the server (on its worker's io_context and thread),
// its write queue, the seq check every server message passes, and the counters. Beast's
// HTTP layer does the opening handshake (ws_handshake.hpp); after it the bot reads and
// writes frames on the socket itself (core/ws_frame.hpp): one read takes every frame that
// has arrived, with no Beast operation per message: the bytes the worker's RecvRing
// received for it (recv_ring.hpp), or, where io_uring is not to be had, a recv when the
// worker's ReadPoller says the socket has bytes (read_poller.hpp).
// Scenario subclasses (scenarios.hpp, one *_bot.cpp each) add the behaviour. Bots of one room share a
// RoomGroup and always live on the same worker, so nothing here is locked.
#pragma once
#include <boost/asio.hpp>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtown/loadtest/options.hpp"
#include "read_poller.hpp"
#include "mtown/core/recv_ring.hpp"
#include "stats.hpp"

namespace mtown::loadtest {

namespace net = boost::asio;
using core::RecvRing;
using tcp = net::ip::tcp;
using nlohmann::json;

class Bot;
class Worker;

// The bots that play in one room, in join order; slot 0 creates the room and hosts it.
struct RoomGroup {
  std::size_t size = 1;  // bots planned for the room (its max_players)
  std::string code;
  std::vector<std::weak_ptr<Bot>> members;  // weak: a bot holds its group
  // party: the phase (round * 8 + phase index) whose votes are being counted, votes
  // sent in it, and when the last one went out.
  int vote_phase = -1, votes = 0;
  Clock::time_point last_vote_at{};
};

class Bot : public ReadPoller::Reader, public RecvRing::Reader, public std::enable_shared_from_this<Bot> {
 public:
  Bot(Worker& w, int index, std::shared_ptr<RoomGroup> group, int slot);
  virtual ~Bot();

  void start();             // connect, handshake, then on_open()
  void close();             // by us: not counted as a disconnect
  // Drops the connection the way a network does (no close frame: a TCP reset), then
  // resumes the session at /ws?resume=TOKEN&last_seq=N (schemas/protocol.md, Sessions and
  // resume). Returns false when there is nothing to drop (not open, or a resume pending).
  bool drop_and_resume();
  // The run is over: no more inputs or pings, and leave the room, so the server stops
  // sending too and both sides' counts can settle.
  void stop_sending();
  virtual void finish(Stats&) {}  // the run is over: account for what is still pending
  bool ready() const { return ready_; }
  bool open() const { return open_; }
  int slot() const { return slot_; }
  // The room's code is known (slot 0 got room_joined): join it if not the creator.
  void room_code_known();

 protected:
  virtual void on_open() = 0;
  // A message the fast path did not take, fully decoded (`resumed` included: the session
  // is back; a `welcome` after drop_and_resume() means the resume was refused).
  virtual void on_message(const json& msg, Clock::time_point now) = 0;
  // Return true when the raw frame was handled without decoding (arena state).
  virtual bool on_fast(std::string_view, Clock::time_point) { return false; }

  // Room scenarios: slot 0 creates a private room of `game` sized for the group, the
  // others join once slot 0 publishes its code.
  void create_or_join(const char* game);
  void publish_room_code(const std::string& code);
  // The host's cue to (re)start: slot 0, still sending, and a room_state whose room is
  // waiting with every planned bot in it.
  bool room_full_and_waiting(const json& room_state) const;
  // This bot's seat in a game_started message (matched by player_id from welcome); -1 if absent.
  int seat_in(const json& game_started) const;
  std::string name() const;

  void send(const json& msg);
  void send_raw(std::string data);  // already in the connection's encoding
  void mark_ready();                // this bot is in its steady state (counted by the ramp)
  void count_error(const std::string& code);
  void protocol_error(const std::string& what);
  bool in_window(Clock::time_point t) const;
  // At the run's end: a resume still pending counts as failed, its wait so far recorded.
  void finish_resume(Stats& s);
  bool msgpack() const { return opts().encoding == Encoding::msgpack; }
  const Options& opts() const;
  Stats& stats();
  Interval& interval();

  Worker& w_;
  int index_, slot_;
  std::shared_ptr<RoomGroup> group_;
  std::mt19937_64 rng_;
  net::steady_timer timer_;  // the scenario's own pacing (inputs, pings, think time, drops)
  std::string player_id_;  // from welcome (set before on_message sees it)
  bool sending_ = true;
  bool closing_ = false;

 private:
  struct Handshake;  // the opening handshake's request, parser and buffer (bot.cpp)

  void connect();
  void on_connected(boost::system::error_code ec);
  void on_handshake(boost::system::error_code ec);
  void do_read();
  void on_readable() override;  // ReadPoller: the socket has new bytes (or closed)
  void try_read();              // one non-blocking recv while a read is wanted
  void on_bytes(const char* data, std::size_t n) override;  // RecvRing: bytes received
  void on_read_end(int error) override;                      // RecvRing: the stream ended
  void take_received();        // hands the ring's bytes (or its end) to a wanted read
  void stop_watching();         // before the socket closes: ends a wanted read as aborted
  void on_read(boost::system::error_code ec, std::size_t n);
  // Handles every whole frame in rbuf_; false when the connection failed or was replaced
  // meanwhile (the caller then leaves rbuf_ alone).
  bool take_frames();
  bool on_frame(int opcode, bool fin, std::string_view payload, Clock::time_point now);
  void on_message_bytes(std::string_view msg, bool text, Clock::time_point now);
  void queue_frame(int opcode, std::string_view payload);
  void do_write();
  void on_failure(const char* stage, boost::system::error_code ec) { on_failure(stage, ec.message()); }
  void on_failure(const char* stage, const std::string& what);
  void fail_protocol(const std::string& what);  // counted, and the connection is cut
  // type: the message's, "snapshot" for `resumed` with snapshot: true, "" when not decoded.
  void check_seq(std::uint64_t seq, const std::string& type);
  void reconnect_when_idle();
  void on_resumed(const json& resumed, Clock::time_point now);
  void resume_failed(const std::string& why);

  // Replaced by a fresh socket for each resume, once the dropped one's handlers have run;
  // connection_ counts the replacements, so a handler can tell its socket is gone.
  std::optional<tcp::socket> sock_;
  std::uint64_t connection_ = 0;
  std::unique_ptr<Handshake> handshake_;  // only while the opening handshake runs
  net::steady_timer handshake_timer_;
  std::vector<unsigned char> rbuf_;  // received bytes not yet taken as frames: [0, have_)
  std::size_t have_ = 0;
  // With the RecvRing: bytes it received while no read was wanted, after have_; and how
  // the stream ended (eof or an error), once it has.
  std::size_t unread_ = 0;
  std::optional<boost::system::error_code> ended_;
  std::string fragments_;       // a fragmented message's payload so far
  int fragments_opcode_ = -1;   // its opcode; -1 when none is in progress
  std::uint32_t mask_state_;    // xorshift32 for the frames' mask keys
  std::deque<std::string> out_;  // whole frames, masked
  bool writing_ = false, reading_ = false, ready_ = false, open_ = false, joined_ = false, in_room_ = false;
  // Reads through the worker's RecvRing (ringed_) or else its ReadPoller (watched_), once
  // registered. may_have_bytes_ (poller): until a read comes back short (the socket had no
  // more), and again at its next edge.
  bool ringed_ = false, watched_ = false, may_have_bytes_ = true;
  std::uint64_t last_seq_ = 0;
  // Resume: the token from welcome; dropped_ while the old socket's handlers are pending,
  // resuming_ from the drop until `resumed` (or a refusal) arrives.
  std::string resume_token_;
  bool dropped_ = false, resuming_ = false;
  Clock::time_point dropped_at_{};
};

}  // namespace mtown::loadtest
