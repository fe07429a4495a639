// What a game records so `mtown replay` can re-run it exactly: a header (format version,
// game and its version, complete options, seed, seats), every step's inputs in the order
// the game saw them, the state hash every N ticks and at the end, the public events (for
// timelines) and the result.
//
// The same records go to the database (game_events rows, see docs/recording.md) and to
// `.mtrec` files: the header on the first line, then one record per line, each a JSON
// object (schemas/recording/mtrec.md). Field names here are the file's field names.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtown/core/game.hpp"

namespace mtown::core {

// Bump when a record's meaning changes; readers refuse versions newer than theirs.
inline constexpr int kRecordingFormat = 1;

struct RecordingHeader {
  int format = kRecordingFormat;
  std::string game_id;
  std::string game;               // "arena", "party"
  std::uint32_t game_version = 0;  // Game::version() at record time
  std::uint32_t tick_hz = 0;       // 0: event-driven (ticks are ms since start)
  std::uint64_t seed = 0;
  nlohmann::json options;  // complete: games::create_game(game, options) rebuilds the game
  std::vector<GameSeat> seats;
  std::string room_code;
  std::int64_t started_at_ms = 0;   // Unix epoch ms
  std::uint32_t hash_every = 0;     // fixed-rate games: a hash record every N ticks (0: end only)
};

// One Game::step call that had inputs (fixed-rate games step every tick, so empty
// ticks are implied), or any step of an event-driven game (its tick is when it ran).
struct RecordedStep {
  Tick tick = 0;
  std::vector<GameInput> inputs;  // arrival order
};

// A checkpoint: the state hash at `tick`, the public snapshot then (so a divergence can
// name the fields that differ) and, for fixed-rate games, the low 32 bits of the hash of
// every tick since the previous checkpoint (8 hex digits each, oldest first), so replay
// finds the first divergent tick exactly.
struct RecordedHash {
  Tick tick = 0;
  std::uint64_t hash = 0;
  nlohmann::json state;     // Game::snapshot() at `tick`
  std::string tick_hashes;  // "" for event-driven games
};

struct RecordedEvent {  // a public game event, for timelines; replay regenerates them
  Tick tick = 0;
  nlohmann::json event;
};

struct RecordedEnd {
  Tick tick = 0;
  std::uint64_t hash = 0;
  std::string status;  // "completed" or "aborted" (the room closed mid-game)
  nlohmann::json result;  // Game::result() when completed, else null
};

using RecordingEntry = std::variant<RecordedStep, RecordedHash, RecordedEvent, RecordedEnd>;

struct Recording {
  RecordingHeader header;
  std::vector<RecordingEntry> entries;  // in order of ticks
};

// Where a running game reports what it records. Called on the room's strand: an
// implementation must only enqueue (never block on I/O).
class GameRecorder {
 public:
  virtual ~GameRecorder() = default;
  virtual void begin(const RecordingHeader& header) = 0;
  virtual void record(RecordingEntry entry) = 0;
};

// Fans records out to several recorders (the database writer and, say, a file).
class RecorderList final : public GameRecorder {
 public:
  void add(std::shared_ptr<GameRecorder> r) { recorders_.push_back(std::move(r)); }
  bool empty() const { return recorders_.empty(); }
  void begin(const RecordingHeader& header) override;
  void record(RecordingEntry entry) override;

 private:
  std::vector<std::shared_ptr<GameRecorder>> recorders_;
};

// Keeps everything in memory: tests, and exporting a finished game to a file.
class MemoryRecorder final : public GameRecorder {
 public:
  void begin(const RecordingHeader& header) override { recording_.header = header; }
  void record(RecordingEntry entry) override { recording_.entries.push_back(std::move(entry)); }
  const Recording& recording() const { return recording_; }

 private:
  Recording recording_;
};

// ---- encoding (.mtrec lines and game_events payloads) ----

enum class RecordingErrorKind { corrupt, newer_format, unknown_game };

class RecordingError : public std::runtime_error {
 public:
  RecordingError(RecordingErrorKind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  RecordingErrorKind kind() const { return kind_; }

 private:
  RecordingErrorKind kind_;
};

std::string hash_hex(std::uint64_t h);             // 16 lowercase hex digits
std::optional<std::uint64_t> parse_hash_hex(std::string_view s);

nlohmann::json header_to_json(const RecordingHeader& h);  // includes "mtrec": format
RecordingHeader header_from_json(const nlohmann::json& j);  // throws RecordingError
nlohmann::json entry_to_json(const RecordingEntry& e);      // {"t":"step"|"hash"|"event"|"end",...}
RecordingEntry entry_from_json(const nlohmann::json& j);    // throws RecordingError

// A whole file: header line, then one entry per line. Reading names the bad line.
std::string to_mtrec(const Recording& r);
Recording from_mtrec(std::string_view text);

}  // namespace mtown::core
