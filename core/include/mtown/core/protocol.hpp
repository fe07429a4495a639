// Protocol v1 codec: decodes and validates client messages against the embedded JSON
// Schemas (schemas/protocol/v1/client), and encodes server messages once, without
// their per-connection `seq`, so one buffer can be shared by every recipient.
#pragma once
#include <array>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "mtown/core/json_schema.hpp"

namespace mtown::core {

enum class ErrorCode {
  bad_json, bad_message, unknown_type, unsupported_frame, unknown_game, room_not_found,
  room_full, room_closed, already_in_room, not_in_room, server_full, internal,
  // games
  not_host, game_in_progress, game_not_started, wrong_phase, invalid_input, not_a_player,
  not_enough_players, rate_limited,
  // auth
  auth_required, auth_failed, token_expired,
  count_
};
std::string_view error_code_name(ErrorCode code);

enum class ClientType {
  create_room, join_room, leave_room, list_rooms, chat, ping,
  start_game, add_ai, input, restart_game,
  auth,
  count_
};
std::string_view client_type_name(ClientType type);

struct ClientMessage {
  ClientType type;
  nlohmann::json body;  // the whole validated message
  nlohmann::json rid;   // null when absent
};

struct DecodeError {
  ErrorCode code;
  std::string message;
  std::string field;   // JSON pointer, may be empty
  nlohmann::json rid;  // echoed when the message had a well-formed rid, else null
};

using DecodeResult = std::variant<ClientMessage, DecodeError>;

// Deepest nesting accepted in a client message; the protocol needs 2.
inline constexpr int kMaxJsonDepth = 16;
// Nesting depth of a JSON text, ignoring brackets inside strings. Any text nesting deeper
// than kMaxJsonDepth is refused as too deep, even where it is invalid JSON before that.
int json_depth(std::string_view text);

class ProtocolDecoder {
 public:
  ProtocolDecoder();  // compiles the embedded schemas; throws if one is unusable
  DecodeResult decode(std::string_view text) const;           // mtown.v1.json text frame
  DecodeResult decode_msgpack(std::string_view bytes) const;  // mtown.v1.msgpack binary frame

 private:
  DecodeResult validate(nlohmann::json doc) const;
  std::array<std::unique_ptr<JsonSchema>, static_cast<std::size_t>(ClientType::count_)> schemas_;
};

enum class ServerType {
  welcome, room_joined, room_left, room_list, pong, player_joined, player_left, host_changed,
  room_state, chat, room_closed, error,
  game_started, state, game_event, game_over,
  // sessions
  resumed, player_disconnected, player_reconnected,
  authenticated,
  count_
};
std::string_view server_type_name(ServerType type);

// A MessagePack map without `seq`; writers send a new map header (one more entry), then
// "seq", then the entries (bytes after header_len).
struct MsgpackBody {
  std::string bytes;
  std::size_t header_len = 0;
  std::size_t entries = 0;
};

// A serialized server message without `seq`: `{"type":...}`. Immutable; one instance is
// shared by every recipient of a broadcast, whatever their encoding.
class OutboundMessage {
 public:
  OutboundMessage(ServerType t, std::string json_body, ErrorCode code = ErrorCode::count_)
      : type(t), body(std::move(json_body)), error(code) {}

  const ServerType type;
  const std::string body;  // JSON text
  const ErrorCode error;   // set on type == error, for metrics
  // The same message in MessagePack, built once, on first use, by whichever thread asks.
  const MsgpackBody& msgpack() const;

 private:
  mutable std::once_flag msgpack_once_;
  mutable MsgpackBody msgpack_;
};
using SharedMessage = std::shared_ptr<const OutboundMessage>;

// `msg` is a complete message object with its "type".
SharedMessage make_message(ServerType type, const nlohmann::json& msg, ErrorCode code = ErrorCode::count_);

// Serializes `fields` (an object, without "type") as a message of the given type.
SharedMessage encode_message(ServerType type, nlohmann::json fields);
SharedMessage encode_error(ErrorCode code, std::string_view message, const nlohmann::json& rid,
                           std::string_view field = {}, std::optional<std::uint64_t> input_seq = {});

// The bytes a connection sends: `{"seq":N,` + body without its leading `{`.
// Writers send prefix and body_tail as one frame from two buffers (no copy of the body).
std::string seq_prefix(std::uint64_t seq);

// Reply fields with the request's rid added when it had one.
nlohmann::json with_rid(nlohmann::json fields, const nlohmann::json& rid);
// Wall-clock milliseconds since the Unix epoch, for `*_ms` fields (never game logic).
std::int64_t epoch_ms();
// MessagePack: a map header for `entries` + 1 entries, the key "seq", the value.
std::string msgpack_seq_prefix(std::uint64_t seq, std::size_t entries);
inline std::string_view body_tail(const std::string& body) { return std::string_view(body).substr(1); }

}  // namespace mtown::core
