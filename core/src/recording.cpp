#include "mtown/core/recording.hpp"

#include <charconv>
#include <cstdio>

namespace mtown::core {
namespace {

using nlohmann::json;

[[noreturn]] void corrupt(const std::string& what) { throw RecordingError(RecordingErrorKind::corrupt, what); }

// Typed field access: a missing or mistyped field is a corrupt recording, not a crash.
template <typename T>
T field(const json& j, const char* name) {
  const auto it = j.find(name);
  if (it == j.end()) corrupt(std::string("missing field \"") + name + "\"");
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    corrupt(std::string("field \"") + name + "\" has the wrong type");
  }
}

std::uint64_t hash_field(const json& j) {
  const auto h = parse_hash_hex(field<std::string>(j, "hash"));
  if (!h) corrupt("field \"hash\" is not 16 hex digits");
  return *h;
}

json seat_to_json(const GameSeat& s) {
  json out{{"player_id", s.player_id}, {"name", s.name}, {"ai", s.ai}};
  if (s.ai) out["difficulty"] = ai_difficulty_name(s.difficulty);
  return out;
}

GameSeat seat_from_json(const json& j) {
  GameSeat s{field<std::string>(j, "player_id"), field<std::string>(j, "name"), field<bool>(j, "ai")};
  if (s.ai) {
    const auto d = parse_ai_difficulty(field<std::string>(j, "difficulty"));
    if (!d) corrupt("unknown AI difficulty");
    s.difficulty = *d;
  }
  return s;
}

json input_to_json(const GameInput& in) {
  return {{"seat", in.seat}, {"input_seq", in.input_seq}, {"data", in.data}};
}

GameInput input_from_json(const json& j) {
  return {field<std::uint32_t>(j, "seat"), field<std::uint64_t>(j, "input_seq"), field<json>(j, "data")};
}

}  // namespace

void RecorderList::begin(const RecordingHeader& header) {
  for (auto& r : recorders_) r->begin(header);
}

void RecorderList::record(RecordingEntry entry) {
  if (recorders_.empty()) return;
  for (std::size_t i = 0; i + 1 < recorders_.size(); ++i) recorders_[i]->record(entry);
  recorders_.back()->record(std::move(entry));
}

std::string hash_hex(std::uint64_t h) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::optional<std::uint64_t> parse_hash_hex(std::string_view s) {
  if (s.size() != 16) return std::nullopt;
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

json header_to_json(const RecordingHeader& h) {
  json seats = json::array();
  for (const auto& s : h.seats) seats.push_back(seat_to_json(s));
  return {{"mtrec", h.format},        {"game_id", h.game_id},       {"game", h.game},
          {"game_version", h.game_version}, {"tick_hz", h.tick_hz},   {"seed", h.seed},
          {"options", h.options},     {"seats", std::move(seats)},  {"room_code", h.room_code},
          {"started_at_ms", h.started_at_ms}, {"hash_every", h.hash_every}};
}

RecordingHeader header_from_json(const json& j) {
  if (!j.is_object()) corrupt("the header is not a JSON object");
  RecordingHeader h;
  h.format = field<int>(j, "mtrec");
  if (h.format > kRecordingFormat)
    throw RecordingError(RecordingErrorKind::newer_format,
                         "recording format " + std::to_string(h.format) + " is newer than this mtown reads (" +
                             std::to_string(kRecordingFormat) + "); upgrade mtown");
  if (h.format < 1) corrupt("recording format " + std::to_string(h.format) + " does not exist");
  h.game_id = field<std::string>(j, "game_id");
  h.game = field<std::string>(j, "game");
  h.game_version = field<std::uint32_t>(j, "game_version");
  h.tick_hz = field<std::uint32_t>(j, "tick_hz");
  h.seed = field<std::uint64_t>(j, "seed");
  h.options = field<json>(j, "options");
  for (const auto& s : field<json>(j, "seats")) h.seats.push_back(seat_from_json(s));
  h.room_code = field<std::string>(j, "room_code");
  h.started_at_ms = field<std::int64_t>(j, "started_at_ms");
  h.hash_every = field<std::uint32_t>(j, "hash_every");
  return h;
}

json entry_to_json(const RecordingEntry& e) {
  struct Visitor {
    json operator()(const RecordedStep& s) const {
      json inputs = json::array();
      for (const auto& in : s.inputs) inputs.push_back(input_to_json(in));
      return {{"t", "step"}, {"tick", s.tick}, {"inputs", std::move(inputs)}};
    }
    json operator()(const RecordedHash& h) const {
      return {{"t", "hash"}, {"tick", h.tick}, {"hash", hash_hex(h.hash)}, {"state", h.state}, {"tick_hashes", h.tick_hashes}};
    }
    json operator()(const RecordedEvent& ev) const { return {{"t", "event"}, {"tick", ev.tick}, {"event", ev.event}}; }
    json operator()(const RecordedEnd& end) const {
      return {{"t", "end"}, {"tick", end.tick}, {"hash", hash_hex(end.hash)}, {"status", end.status}, {"result", end.result}};
    }
  };
  return std::visit(Visitor{}, e);
}

RecordingEntry entry_from_json(const json& j) {
  if (!j.is_object()) corrupt("a record is not a JSON object");
  const auto t = field<std::string>(j, "t");
  const auto tick = field<Tick>(j, "tick");
  if (t == "step") {
    RecordedStep s{tick, {}};
    const auto inputs = field<json>(j, "inputs");
    if (!inputs.is_array()) corrupt("field \"inputs\" is not an array");
    for (const auto& in : inputs) s.inputs.push_back(input_from_json(in));
    return s;
  }
  if (t == "hash") {
    RecordedHash h{tick, hash_field(j), field<json>(j, "state"), field<std::string>(j, "tick_hashes")};
    if (h.tick_hashes.size() % 8 != 0 ||
        h.tick_hashes.find_first_not_of("0123456789abcdef") != std::string::npos)
      corrupt("field \"tick_hashes\" is not a run of 8-hex-digit hashes");
    return h;
  }
  if (t == "event") return RecordedEvent{tick, field<json>(j, "event")};
  if (t == "end") {
    const auto status = field<std::string>(j, "status");
    if (status != "completed" && status != "aborted") corrupt("unknown end status \"" + status + "\"");
    return RecordedEnd{tick, hash_field(j), status, field<json>(j, "result")};
  }
  corrupt("unknown record type \"" + t + "\"");
}

std::string to_mtrec(const Recording& r) {
  std::string out = header_to_json(r.header).dump();
  out += '\n';
  for (const auto& e : r.entries) {
    out += entry_to_json(e).dump();
    out += '\n';
  }
  return out;
}

Recording from_mtrec(std::string_view text) {
  Recording r;
  std::size_t line_no = 0;
  bool have_header = false;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    const auto line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    if (line.empty()) continue;
    try {
      const auto j = json::parse(line);
      if (!have_header) {
        r.header = header_from_json(j);
        have_header = true;
      } else {
        r.entries.push_back(entry_from_json(j));
      }
    } catch (const json::parse_error&) {
      corrupt("line " + std::to_string(line_no) + ": not valid JSON");
    } catch (const RecordingError& e) {
      if (e.kind() != RecordingErrorKind::corrupt) throw;
      corrupt("line " + std::to_string(line_no) + ": " + e.what());
    }
  }
  if (!have_header) corrupt("empty file: no header line");
  return r;
}

}  // namespace mtown::core
