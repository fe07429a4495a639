// The names of mtown's Redis keys and channels (seeds 000 and 002), in one place for the
// server that writes them and `mtown inspect` that reads them. docs/redis.md documents each.
#pragma once
#include <string>
#include <string_view>

namespace mtown::core::redis_keys {

inline constexpr std::string_view kRoomsActive = "rooms:active";    // set of open room codes
inline constexpr std::string_view kSystemHealth = "system:health";  // channel: node heartbeats

std::string room(std::string_view code);                // hash
std::string player(std::string_view player_id);         // hash
std::string game_state(std::string_view code);          // string: JSON snapshot
std::string votes_elimination(std::string_view code);   // hash: player id -> answer id
std::string votes_final(std::string_view code);         // hash: player id -> answer id
std::string ratelimit(std::string_view player_id, std::string_view action);  // counter
std::string node(std::string_view node_id);             // hash
std::string room_events(std::string_view code);         // channel

enum class KeyKind { room, player, game_state, votes_elimination, votes_final, ratelimit, node, rooms_active, other };

struct ParsedKey {
  KeyKind kind = KeyKind::other;
  std::string id;       // room code, player id or node id
  bool valid = true;    // false: an mtown prefix with an id of the wrong shape
};

// "room:ABCD" -> {room, "ABCD"}; "room:hello" -> {room, "hello", valid=false};
// "session:1" -> {other}. Keys of other applications are `other`.
ParsedKey classify(std::string_view key);
std::string_view kind_name(KeyKind kind);

}  // namespace mtown::core::redis_keys
