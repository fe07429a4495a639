#include "mtown/core/protocol.hpp"

#include <cmath>
#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <vector>

#include "mtown/core/embedded.hpp"
#include "mtown/core/json_reader.hpp"
#include "mtown/core/text.hpp"

namespace mtown::core {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, static_cast<std::size_t>(ErrorCode::count_)> kErrorNames{
    "BAD_JSON",       "BAD_MESSAGE", "UNKNOWN_TYPE", "UNSUPPORTED_FRAME",
    "UNKNOWN_GAME",   "ROOM_NOT_FOUND", "ROOM_FULL", "ROOM_CLOSED",
    "ALREADY_IN_ROOM", "NOT_IN_ROOM", "SERVER_FULL", "INTERNAL",
    "NOT_HOST",       "GAME_IN_PROGRESS", "GAME_NOT_STARTED", "WRONG_PHASE", "INVALID_INPUT", "NOT_A_PLAYER",
    "NOT_ENOUGH_PLAYERS", "RATE_LIMITED",
    "AUTH_REQUIRED",  "AUTH_FAILED", "TOKEN_EXPIRED"};

constexpr std::array<std::string_view, static_cast<std::size_t>(ClientType::count_)> kClientTypes{
    "create_room", "join_room", "leave_room", "list_rooms", "chat", "ping",
    "start_game",  "add_ai",    "input",      "restart_game",
    "auth"};

constexpr std::array<std::string_view, static_cast<std::size_t>(ServerType::count_)> kServerTypes{
    "welcome",      "room_joined", "room_left", "room_list",  "pong",        "player_joined",
    "player_left",  "host_changed", "room_state", "chat",     "room_closed", "error",
    "game_started", "state",        "game_event", "game_over",
    "resumed",      "player_disconnected", "player_reconnected", "authenticated"};

}  // namespace

int json_depth(std::string_view text) {
  int depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max_depth;
}

namespace {

// Nesting depth of one MessagePack value that spans all of `b`; -1 when malformed.
// Iterative, so a hostile document cannot exhaust the stack before it is rejected.
int msgpack_depth(std::string_view b) {
  std::vector<std::uint64_t> open;  // items still expected by each open container
  int max_depth = 0;
  std::size_t i = 0;
  const auto need = [&](std::size_t n) { return i + n <= b.size(); };
  const auto be = [&](std::size_t at, int bytes) {
    std::uint64_t v = 0;
    for (int k = 0; k < bytes; ++k) v = (v << 8) | static_cast<unsigned char>(b[at + k]);
    return v;
  };
  do {
    if (!need(1)) return -1;
    const auto t = static_cast<unsigned char>(b[i]);
    std::uint64_t skip = 0, children = 0;
    bool container = false;
    if (t <= 0x7F || t >= 0xE0 || t == 0xC0 || t == 0xC2 || t == 0xC3) skip = 1;
    else if ((t & 0xF0) == 0x80) container = true, children = 2u * (t & 0x0F), skip = 1;
    else if ((t & 0xF0) == 0x90) container = true, children = t & 0x0F, skip = 1;
    else if ((t & 0xE0) == 0xA0) skip = 1 + (t & 0x1F);
    else if (t == 0xC4 || t == 0xD9) { if (!need(2)) return -1; skip = 2 + be(i + 1, 1); }
    else if (t == 0xC5 || t == 0xDA) { if (!need(3)) return -1; skip = 3 + be(i + 1, 2); }
    else if (t == 0xC6 || t == 0xDB) { if (!need(5)) return -1; skip = 5 + be(i + 1, 4); }
    else if (t == 0xC7) { if (!need(2)) return -1; skip = 3 + be(i + 1, 1); }
    else if (t == 0xC8) { if (!need(3)) return -1; skip = 4 + be(i + 1, 2); }
    else if (t == 0xC9) { if (!need(5)) return -1; skip = 6 + be(i + 1, 4); }
    else if (t == 0xCA || t == 0xCE || t == 0xD2) skip = 5;
    else if (t == 0xCB || t == 0xCF || t == 0xD3) skip = 9;
    else if (t == 0xCC || t == 0xD0) skip = 2;
    else if (t == 0xCD || t == 0xD1) skip = 3;
    else if (t >= 0xD4 && t <= 0xD8) skip = 2 + (std::uint64_t{1} << (t - 0xD4));
    else if (t == 0xDC || t == 0xDE) { if (!need(3)) return -1; container = true, skip = 3, children = be(i + 1, 2) * (t == 0xDE ? 2 : 1); }
    else if (t == 0xDD || t == 0xDF) { if (!need(5)) return -1; container = true, skip = 5, children = be(i + 1, 4) * (t == 0xDF ? 2 : 1); }
    else return -1;  // 0xC1 is never used
    if (skip > b.size() - i) return -1;
    i += skip;
    if (!open.empty()) --open.back();
    if (container && children > 0) {
      if (children > b.size() - i) return -1;  // each child takes at least one byte
      open.push_back(children);
      max_depth = std::max(max_depth, static_cast<int>(open.size()));
    } else if (container) {
      max_depth = std::max(max_depth, static_cast<int>(open.size()) + 1);
    }
    while (!open.empty() && open.back() == 0) open.pop_back();
  } while (!open.empty());
  return i == b.size() ? max_depth : -1;
}

// JSON text is UTF-8-checked by the parser; MessagePack str bytes are not. Depth is
// bounded (kMaxJsonDepth) before this runs.
bool strings_are_utf8(const json& v) {
  if (v.is_string()) return is_valid_utf8(v.get_ref<const std::string&>());
  if (v.is_array()) return std::all_of(v.begin(), v.end(), strings_are_utf8);
  if (v.is_object())
    for (const auto& [key, value] : v.items())
      if (!is_valid_utf8(key) || !strings_are_utf8(value)) return false;
  return true;
}

bool is_valid_rid(const json& rid) {
  if (rid.is_number_integer()) return true;
  if (rid.is_number_float()) {  // the schema's "integer" admits whole floats such as 2.0
    const double d = rid.get<double>();
    return std::isfinite(d) && std::trunc(d) == d;
  }
  if (!rid.is_string()) return false;
  const auto& s = rid.get_ref<const std::string&>();
  return !s.empty() && utf8_length(s) <= 64;  // as the schemas say
}

}  // namespace

std::string_view error_code_name(ErrorCode code) { return kErrorNames.at(static_cast<std::size_t>(code)); }
std::string_view client_type_name(ClientType type) { return kClientTypes.at(static_cast<std::size_t>(type)); }

ProtocolDecoder::ProtocolDecoder() {
  for (const auto& file : embedded::protocol_schemas()) {
    const auto slash = file.path.rfind('/');
    const auto name = file.path.substr(slash + 1, file.path.size() - slash - 1 - 5);  // strip ".json"
    for (std::size_t i = 0; i < kClientTypes.size(); ++i)
      if (kClientTypes[i] == name) schemas_[i] = std::make_unique<JsonSchema>(json::parse(file.text));
  }
  for (std::size_t i = 0; i < kClientTypes.size(); ++i)
    if (!schemas_[i]) throw std::logic_error("no embedded schema for " + std::string(kClientTypes[i]));
}

DecodeResult ProtocolDecoder::decode(std::string_view text) const {
  auto doc = read_json(text, kMaxJsonDepth);
  // read_json stops at the depth limit, and a text it accepts nests no deeper, so the depth
  // scan runs only on refused texts: it still decides which of the two errors they get.
  if (!doc && json_depth(text) > kMaxJsonDepth)
    return DecodeError{ErrorCode::bad_json, "JSON nested deeper than " + std::to_string(kMaxJsonDepth), "", nullptr};
  if (!doc) return DecodeError{ErrorCode::bad_json, "not valid JSON", "", nullptr};
  return validate(std::move(*doc));
}

DecodeResult ProtocolDecoder::decode_msgpack(std::string_view bytes) const {
  const int depth = msgpack_depth(bytes);
  if (depth < 0) return DecodeError{ErrorCode::bad_json, "not valid MessagePack", "", nullptr};
  if (depth > kMaxJsonDepth)
    return DecodeError{ErrorCode::bad_json, "MessagePack nested deeper than " + std::to_string(kMaxJsonDepth), "", nullptr};
  json doc = json::from_msgpack(bytes, /*strict=*/true, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return DecodeError{ErrorCode::bad_json, "not valid MessagePack", "", nullptr};
  if (!strings_are_utf8(doc)) return DecodeError{ErrorCode::bad_json, "a MessagePack string is not valid UTF-8", "", nullptr};
  return validate(std::move(doc));
}

DecodeResult ProtocolDecoder::validate(json doc) const {
  if (!doc.is_object()) return DecodeError{ErrorCode::bad_json, "a message must be an object", "", nullptr};
  json rid = nullptr;
  if (const auto it = doc.find(std::string_view("rid")); it != doc.end() && is_valid_rid(*it)) rid = *it;
  const auto type_it = doc.find(std::string_view("type"));
  if (type_it == doc.end()) return DecodeError{ErrorCode::bad_message, "type is required", "/type", rid};
  if (!type_it->is_string()) return DecodeError{ErrorCode::bad_message, "type must be a string", "/type", rid};
  const auto& type_name = type_it->get_ref<const std::string&>();
  for (std::size_t i = 0; i < kClientTypes.size(); ++i) {
    if (kClientTypes[i] != type_name) continue;
    if (auto bad = schemas_[i]->validate(doc)) {
      const std::string field = bad->pointer.empty() ? "message" : bad->pointer.substr(1);
      return DecodeError{ErrorCode::bad_message, field + " " + bad->message, bad->pointer, rid};
    }
    return ClientMessage{static_cast<ClientType>(i), std::move(doc), std::move(rid)};
  }
  return DecodeError{ErrorCode::unknown_type, "unknown message type", "/type", rid};
}

std::string_view server_type_name(ServerType type) { return kServerTypes.at(static_cast<std::size_t>(type)); }

SharedMessage make_message(ServerType type, const json& msg, ErrorCode code) {
  return std::make_shared<const OutboundMessage>(type, msg.dump(-1, ' ', false, json::error_handler_t::replace), code);
}

SharedMessage encode_message(ServerType type, json fields) {
  if (!fields.is_object()) throw std::invalid_argument("message fields must be an object");
  fields["type"] = server_type_name(type);
  return make_message(type, fields);
}

SharedMessage encode_error(ErrorCode code, std::string_view message, const json& rid, std::string_view field,
                           std::optional<std::uint64_t> input_seq) {
  json msg{{"type", "error"}, {"code", error_code_name(code)}, {"message", message}};
  if (!rid.is_null()) msg["rid"] = rid;
  if (!field.empty()) msg["field"] = field;
  if (input_seq) msg["input_seq"] = *input_seq;
  return make_message(ServerType::error, msg, code);
}

const MsgpackBody& OutboundMessage::msgpack() const {
  std::call_once(msgpack_once_, [this] {
    const json doc = json::parse(body);
    json::to_msgpack(doc, msgpack_.bytes);
    const auto b0 = static_cast<unsigned char>(msgpack_.bytes[0]);
    const auto byte = [&](std::size_t i) { return static_cast<std::size_t>(static_cast<unsigned char>(msgpack_.bytes[i])); };
    if ((b0 & 0xF0) == 0x80) {
      msgpack_.header_len = 1, msgpack_.entries = b0 & 0x0F;
    } else if (b0 == 0xDE) {
      msgpack_.header_len = 3, msgpack_.entries = (byte(1) << 8) | byte(2);
    } else {  // 0xDF: more than 65535 fields never happens in this protocol
      msgpack_.header_len = 5, msgpack_.entries = (byte(1) << 24) | (byte(2) << 16) | (byte(3) << 8) | byte(4);
    }
  });
  return msgpack_;
}

std::string msgpack_seq_prefix(std::uint64_t seq, std::size_t entries) {
  std::string out;
  const std::size_t n = entries + 1;
  if (n <= 15) {
    out += static_cast<char>(0x80 | n);
  } else {
    out += static_cast<char>(0xDE);
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(n & 0xFF);
  }
  out += "\xA3seq";
  const auto be = [&out](std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
  };
  if (seq < 128) out += static_cast<char>(seq);
  else if (seq <= 0xFF) out += static_cast<char>(0xCC), be(seq, 1);
  else if (seq <= 0xFFFF) out += static_cast<char>(0xCD), be(seq, 2);
  else if (seq <= 0xFFFFFFFFull) out += static_cast<char>(0xCE), be(seq, 4);
  else out += static_cast<char>(0xCF), be(seq, 8);
  return out;
}

json with_rid(json fields, const json& rid) {
  if (!rid.is_null()) fields["rid"] = rid;
  return fields;
}

std::int64_t epoch_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string seq_prefix(std::uint64_t seq) {
  // Once per message per recipient, without temporaries (the result fits libstdc++'s
  // 15-character small-string buffer up to seq 9,999,999).
  std::string out = "{\"seq\":";
  append_decimal(out, seq);
  out += ',';
  return out;
}

}  // namespace mtown::core
