#include "mtown/store/rows.hpp"

#include <cstdio>
#include <ctime>

namespace mtown::store {
namespace {

using nlohmann::json;

[[noreturn]] void corrupt(const EventRow& row, const std::string& what) {
  throw core::RecordingError(core::RecordingErrorKind::corrupt,
                             "game_events row seq " + std::to_string(row.seq) + ": " + what);
}

EventRow make_row(const std::string& game_id, core::Tick tick, std::int64_t& seq, const char* kind,
                  std::string event_type, json payload) {
  return {game_id, tick, seq++, kind, std::move(event_type), std::nullopt, {}, std::move(payload)};
}

const json& member(const EventRow& row, const char* name) {
  if (!row.payload.is_object() || !row.payload.contains(name)) corrupt(row, std::string("payload lacks \"") + name + "\"");
  return row.payload.at(name);
}

// Hash and end rows reuse core's encoding and typed checks: the payload plus "t" and
// "tick" (the row's event_type and tick) is the record's file form.
json to_payload(const core::RecordingEntry& entry) {
  json j = core::entry_to_json(entry);
  j.erase("t");
  j.erase("tick");
  return j;
}

core::RecordingEntry from_payload(const EventRow& row, const char* t) {
  json j = row.payload;
  j["t"] = t;
  j["tick"] = row.tick;
  try {
    return core::entry_from_json(j);
  } catch (const core::RecordingError& e) {
    corrupt(row, e.what());
  }
}

}  // namespace

std::vector<EventRow> entry_to_rows(const std::string& game_id, const core::RecordingEntry& entry,
                                    const std::vector<core::GameSeat>& seats, std::int64_t& next_seq) {
  std::vector<EventRow> rows;
  if (const auto* step = std::get_if<core::RecordedStep>(&entry)) {
    if (step->inputs.empty()) rows.push_back(make_row(game_id, step->tick, next_seq, "system", "step", json::object()));
    for (const auto& in : step->inputs) {
      auto row = make_row(game_id, step->tick, next_seq, "input", "input",
                          {{"input_seq", in.input_seq}, {"data", in.data}});
      row.seat = in.seat;
      if (in.seat < seats.size()) row.player_id = seats[in.seat].player_id;
      rows.push_back(std::move(row));
    }
  } else if (const auto* h = std::get_if<core::RecordedHash>(&entry)) {
    rows.push_back(make_row(game_id, h->tick, next_seq, "system", "hash", to_payload(entry)));
  } else if (const auto* ev = std::get_if<core::RecordedEvent>(&entry)) {
    const auto name = ev->event.is_object() ? ev->event.value("event", std::string("event")) : std::string("event");
    rows.push_back(make_row(game_id, ev->tick, next_seq, "state", name, ev->event));
  } else {
    const auto& end = std::get<core::RecordedEnd>(entry);
    rows.push_back(make_row(game_id, end.tick, next_seq, "system", "end", to_payload(entry)));
  }
  return rows;
}

std::vector<core::RecordingEntry> rows_to_entries(std::span<const EventRow> rows) {
  std::vector<core::RecordingEntry> out;
  bool open_step = false;  // the last entry is a step built from input rows
  for (const auto& row : rows) {
    if (row.kind == "input") {
      if (!row.seat) corrupt(row, "an input row without a seat");
      core::GameInput in{*row.seat, 0, member(row, "data")};
      try {
        in.input_seq = member(row, "input_seq").get<std::uint64_t>();
      } catch (const json::exception&) {
        corrupt(row, "input_seq is not an unsigned integer");
      }
      auto* last = open_step ? std::get_if<core::RecordedStep>(&out.back()) : nullptr;
      if (last && last->tick == row.tick) {
        last->inputs.push_back(std::move(in));
      } else {
        out.push_back(core::RecordedStep{row.tick, {std::move(in)}});
      }
      open_step = true;
      continue;
    }
    open_step = false;
    if (row.kind == "state") {
      out.push_back(core::RecordedEvent{row.tick, row.payload});
    } else if (row.kind != "system") {
      corrupt(row, "unknown kind \"" + row.kind + "\"");
    } else if (row.event_type == "step") {
      out.push_back(core::RecordedStep{row.tick, {}});
    } else if (row.event_type == "hash" || row.event_type == "end") {
      out.push_back(from_payload(row, row.event_type.c_str()));
    } else {
      corrupt(row, "unknown system event \"" + row.event_type + "\"");
    }
  }
  return out;
}

std::string iso_utc_ms(std::int64_t epoch_ms) {
  const std::time_t t = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(epoch_ms % 1000));
  return buf;
}

}  // namespace mtown::store
