#include "mtown/core/protocol.hpp"

#include <cmath>
#include <stdexcept>

#include "mtown/core/embedded.hpp"
#include "mtown/core/text.hpp"

namespace mtown::core {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, static_cast<std::size_t>(ErrorCode::count_)> kErrorNames{
    "BAD_JSON",       "BAD_MESSAGE", "UNKNOWN_TYPE", "UNSUPPORTED_FRAME",
    "UNKNOWN_GAME",   "ROOM_NOT_FOUND", "ROOM_FULL", "ROOM_CLOSED",
    "ALREADY_IN_ROOM", "NOT_IN_ROOM", "SERVER_FULL", "INTERNAL",
    "NOT_HOST",       "GAME_IN_PROGRESS", "GAME_NOT_STARTED", "WRONG_PHASE", "INVALID_INPUT", "NOT_A_PLAYER",
    "NOT_ENOUGH_PLAYERS", "RATE_LIMITED"};

constexpr std::array<std::string_view, static_cast<std::size_t>(ClientType::count_)> kClientTypes{
    "create_room", "join_room", "leave_room", "list_rooms", "chat", "ping",
    "start_game",  "add_ai",    "input",      "restart_game"};

constexpr std::array<std::string_view, static_cast<std::size_t>(ServerType::count_)> kServerTypes{
    "welcome",      "room_joined", "room_left", "room_list",  "pong",        "player_joined",
    "player_left",  "host_changed", "room_state", "chat",     "room_closed", "error",
    "game_started", "state",        "game_event", "game_over"};

// Nesting depth of a JSON text, ignoring brackets inside strings. Checked before parsing
// so a hostile 60 KB of "[[[[" costs a linear scan, not a deep tree.
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
  if (json_depth(text) > kMaxJsonDepth)
    return DecodeError{ErrorCode::bad_json, "JSON nested deeper than " + std::to_string(kMaxJsonDepth), "", nullptr};
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return DecodeError{ErrorCode::bad_json, "not valid JSON", "", nullptr};
  if (!doc.is_object()) return DecodeError{ErrorCode::bad_json, "a message must be a JSON object", "", nullptr};

  json rid = nullptr;
  if (const auto it = doc.find("rid"); it != doc.end() && is_valid_rid(*it)) rid = *it;
  const auto type_it = doc.find("type");
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

SharedMessage encode_message(ServerType type, json fields) {
  if (!fields.is_object()) throw std::invalid_argument("message fields must be an object");
  fields["type"] = server_type_name(type);
  return std::make_shared<const OutboundMessage>(
      OutboundMessage{type, fields.dump(-1, ' ', false, json::error_handler_t::replace)});
}

SharedMessage encode_error(ErrorCode code, std::string_view message, const json& rid, std::string_view field) {
  json msg{{"code", error_code_name(code)}, {"message", message}};
  if (!rid.is_null()) msg["rid"] = rid;
  if (!field.empty()) msg["field"] = field;
  msg["type"] = "error";
  return std::make_shared<const OutboundMessage>(
      OutboundMessage{ServerType::error, msg.dump(-1, ' ', false, json::error_handler_t::replace), code});
}

std::string seq_prefix(std::uint64_t seq) { return "{\"seq\":" + std::to_string(seq) + ","; }

}  // namespace mtown::core
