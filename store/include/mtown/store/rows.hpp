// How recording entries map to game_events rows and back (docs/recording.md). Pure: the
// writer thread turns entries into rows, load_recording turns rows into entries.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "mtown/core/recording.hpp"

namespace mtown::store {

struct EventRow {
  std::string game_id;
  core::Tick tick = 0;
  std::int64_t seq = 0;    // per game, increasing in record order
  std::string kind;        // "input", "state" or "system"
  std::string event_type;  // "input", "step", "hash", "end", or the event's own name
  std::optional<std::uint32_t> seat;
  std::string player_id;  // "" is NULL
  nlohmann::json payload;
};

// One row per input of a step (an event-driven step without inputs: one "step" row),
// one per hash, event and end. `next_seq` is the game's counter, advanced per row.
std::vector<EventRow> entry_to_rows(const std::string& game_id, const core::RecordingEntry& entry,
                                    const std::vector<core::GameSeat>& seats, std::int64_t& next_seq);

// The inverse, for rows in seq order: consecutive input rows with the same tick are one
// step. Throws core::RecordingError(corrupt) naming the bad row's seq.
std::vector<core::RecordingEntry> rows_to_entries(std::span<const EventRow> rows);

// "2026-11-21T12:00:00.000Z" (UTC, milliseconds), the text both dialects store and accept.
std::string iso_utc_ms(std::int64_t epoch_ms);

}  // namespace mtown::store
