// A room: its members, host and lifetime timers. Every mutation runs on the room's own
// strand, so nothing here takes a lock except the summary other threads read for listings.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <nlohmann/json.hpp>

#include "mtown/core/game.hpp"
#include "mtown/core/protocol.hpp"
#include "mtown/games/party.hpp"
#include "mtown/games/registry.hpp"
#include "mtown/server/game_runner.hpp"
#include "mtown/server/mtrec_writer.hpp"

namespace mtown::store {
class RecordWriter;
}

namespace mtown::server {

namespace net = boost::asio;
class Room;
class LiveState;

// A connection as a room sees it. Calls come from the room's strand; implementations
// hop to their own strand and must not call back into the room synchronously.
class RoomMember {
 public:
  virtual ~RoomMember() = default;
  virtual void deliver(const core::SharedMessage& message) = 0;
  // The member is not (or no longer) in `room`: a refused join, or the room closed.
  virtual void on_left_room(const Room* room) = 0;

  // Where a room last found this member's input: its index among the room's members (high
  // half) and its seat (low half), for find_member and seat_of to check first. Only a hint,
  // checked against the player id, so a stale one (members left, another room) costs the
  // scan it spares: over every member's and seat's id on each input (1.7 % of the server's
  // CPU at 1,200 arena clients). Atomic: two rooms' strands may touch it as a member moves.
  std::atomic<std::uint64_t> input_hint{~std::uint64_t{0}};
};

struct RoomSummary {
  std::string code;
  std::string game;
  int players = 0;
  int max_players = 0;
  bool is_public = true;
  std::string status;
  std::int64_t created_at_ms = 0;
};

struct RoomSettings {
  std::string code;
  std::string game;
  int max_players = 8;
  bool is_public = true;
  std::chrono::seconds empty_grace{30};
  std::chrono::seconds ttl{14400};
  std::optional<core::AiDifficulty> ai_fill;  // AI takes the empty seats at start
  std::optional<core::AiDifficulty> ai_takeover;  // AI takes a running game's seat when its grace ends
};

// What a room needs to run games; without it (unit tests of the lobby) games can't start.
struct RoomServices {
  ServerMetrics& metrics;
  const std::vector<games::Question>& questions;
  LiveState* live = nullptr;  // Redis when configured (room_live.cpp)
  std::shared_ptr<store::RecordWriter> recording;  // null: games are not recorded
  std::uint32_t hash_every = 60;                   // GameSetup::hash_every
  std::chrono::microseconds debug_tick_delay{0};  // test only (debug.tick_delay_us)
  MtrecWriter* mtrec = nullptr;  // recording.mtrec_dir: each game also goes to a file
  core::TickLanes* tick_lanes = nullptr;  // rooms.tick_lanes; null: every room on the plain grid
};

enum class RoomCloseReason { expired, empty, shutdown, by_operator };
std::string_view close_reason_name(RoomCloseReason reason);
enum class RoomStatus { waiting, active, completed };

class Room : public std::enable_shared_from_this<Room>, private GameHost {
 public:
  using Executor = net::strand<net::io_context::executor_type>;
  using OnClosed = std::function<void(const Room&)>;

  Room(Executor strand, RoomSettings settings, OnClosed on_closed, const RoomServices* services = nullptr);

  // Each call posts to the room's strand; replies and broadcasts go to members' deliver().
  void start();
  void join(std::shared_ptr<RoomMember> member, std::string player_id, std::string name, nlohmann::json rid);
  // `requester` gets the reply (room_left or NOT_IN_ROOM); null for a silent disconnect.
  void leave(std::string player_id, std::shared_ptr<RoomMember> requester, nlohmann::json rid);
  void chat(std::string player_id, std::string text, std::shared_ptr<RoomMember> requester, nlohmann::json rid);
  // `done` (optional) runs on the room's strand after the members have been told.
  void close(RoomCloseReason reason, std::function<void()> done = {});
  // A member's connection dropped (seat kept for its grace) or came back: the others get
  // player_disconnected / player_reconnected, everyone a room_state.
  void set_connected(std::string player_id, bool connected);
  // A fresh snapshot for a member that resumed past its log: room_state, then the game's
  // current state as game_started (with `tick`), then game_over if it has ended.
  void resync(std::shared_ptr<RoomMember> member, std::string player_id);

  // Games (room_game.cpp). Host-only requests answer NOT_HOST to anyone else.
  void start_game(std::string player_id, nlohmann::json options, std::shared_ptr<RoomMember> requester, nlohmann::json rid);
  void add_ai(std::string player_id, core::AiDifficulty difficulty, std::shared_ptr<RoomMember> requester, nlohmann::json rid);
  void restart_game(std::string player_id, std::shared_ptr<RoomMember> requester, nlohmann::json rid);
  void input(std::string player_id, std::uint64_t input_seq, nlohmann::json data, std::shared_ptr<RoomMember> requester,
             nlohmann::json rid);
  // An input the connection's fast path parsed already (input_text_parser(), no rid):
  // data_text is its data as sent, kept (and parsed into JSON) only when the room's games
  // are recorded. Called on the connection's thread.
  void input_parsed(std::string player_id, std::uint64_t input_seq, core::ParsedInput parsed, std::string_view data_text,
                    std::shared_ptr<RoomMember> requester);
  games::InputTextParser input_text_parser() const { return input_parser_; }  // any thread

  const std::string& code() const { return settings_.code; }
  const std::string& game() const { return settings_.game; }
  RoomSummary summary() const;  // any thread

 private:
  struct Member {
    std::string player_id;
    std::string name;
    std::weak_ptr<RoomMember> sink;  // empty for AI players
    bool ai = false;
    core::AiDifficulty difficulty = core::AiDifficulty::medium;
    bool connected = true;  // false while a disconnected player's seat waits out its grace
  };

  // GameHost, called by the runner on this strand.
  void broadcast(const core::SharedMessage& message) override { broadcast(message, {}); }
  void send_to_seat(std::uint32_t seat, const core::SharedMessage& message) override;
  void game_over(const nlohmann::json& result) override;
  void on_step(const core::StepOutput& out) override;

  // Live state (room_live.cpp): what the node's store (Redis) mirrors of this room.
  void report_live();
  void report_left(const std::string& player_id, bool disconnected);
  void report_game_started();

  bool refuse_unless_host(const std::string& player_id, const std::shared_ptr<RoomMember>& requester,
                          const nlohmann::json& rid);
  void do_start_game(const nlohmann::json& options, const std::shared_ptr<RoomMember>& requester, const nlohmann::json& rid);
  void do_add_ai(core::AiDifficulty difficulty);
  bool take_over_seat(Member& member);
  void do_input(const std::string& player_id, std::uint64_t input_seq, nlohmann::json data,
                const std::shared_ptr<RoomMember>& requester, const nlohmann::json& rid);
  void do_input_parsed(const std::string& player_id, std::uint64_t input_seq, core::ParsedInput parsed,
                       std::string_view data_text, const std::shared_ptr<RoomMember>& requester);
  // The seat an input of player_id's takes, or nullopt once it is refused (not a member,
  // no game running, no seat), the refusal naming input_seq.
  std::optional<std::uint32_t> input_seat(const std::string& player_id, std::uint64_t input_seq,
                                          const std::shared_ptr<RoomMember>& requester, const nlohmann::json& rid);
  const Member* host() const;
  std::size_t human_count() const;
  std::string status_name() const;

  void do_join(const std::shared_ptr<RoomMember>& member, std::string player_id, std::string name,
               const nlohmann::json& rid);
  void do_leave(const std::string& player_id, const std::shared_ptr<RoomMember>& requester, const nlohmann::json& rid);
  void do_close(RoomCloseReason reason);
  void do_set_connected(const std::string& player_id, bool connected);
  void do_resync(const std::shared_ptr<RoomMember>& member, const std::string& player_id);
  core::SharedMessage game_over_message(const nlohmann::json& result) const;
  void broadcast(const core::SharedMessage& message, const std::string& except_player);
  nlohmann::json player_json(const Member& m) const;
  nlohmann::json room_json() const;
  void publish_summary();
  void arm_empty_timer();
  // `hint`: the index to check first (where the member was found before); any value is safe.
  std::vector<Member>::iterator find_member(const std::string& player_id, std::size_t hint = ~std::size_t{0});

  Executor strand_;
  RoomSettings settings_;
  games::InputTextParser input_parser_;  // settings_.game's, set once
  OnClosed on_closed_;
  std::int64_t created_at_ms_;
  std::vector<Member> members_;  // join order; the first human is the host
  const RoomServices* services_;
  RoomStatus status_ = RoomStatus::waiting;
  std::shared_ptr<GameRunner> runner_;  // the current or last game
  int ai_count_ = 0;
  bool closed_ = false;
  std::string live_phase_ = "lobby";
  int live_round_ = 0;
  net::steady_timer empty_timer_;
  net::steady_timer ttl_timer_;

  mutable std::mutex summary_mutex_;
  RoomSummary summary_;
};

}  // namespace mtown::server
