#include "mtown/core/redis_keys.hpp"

#include <algorithm>

#include "mtown/core/room_code.hpp"

namespace mtown::core::redis_keys {
namespace {

std::string join(std::string_view a, std::string_view b) { return std::string(a) + std::string(b); }

bool is_code(std::string_view s) {
  return s.size() == kRoomCodeLength &&
         std::all_of(s.begin(), s.end(), [](char c) { return kRoomCodeAlphabet.find(c) != std::string_view::npos; });
}

// Player and node ids: 1-64 characters of A-Z a-z 0-9 _ - . :
bool is_id(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.' || c == ':';
  });
}

ParsedKey with_id(KeyKind kind, std::string_view id, bool valid) { return {kind, std::string(id), valid}; }

}  // namespace

std::string room(std::string_view code) { return join("room:", code); }
std::string player(std::string_view id) { return join("player:", id); }
std::string game_state(std::string_view code) { return join("game:", code) + ":state"; }
std::string votes_elimination(std::string_view code) { return join("votes:elimination:", code); }
std::string votes_final(std::string_view code) { return join("votes:final:", code); }
std::string ratelimit(std::string_view id, std::string_view action) { return join("ratelimit:", id) + ":" + std::string(action); }
std::string node(std::string_view id) { return join("node:", id); }
std::string room_events(std::string_view code) { return join("room:", code) + ":events"; }

ParsedKey classify(std::string_view key) {
  const auto after = [&](std::string_view prefix) { return key.substr(prefix.size()); };
  if (key == kRoomsActive) return {KeyKind::rooms_active, "", true};
  if (key.starts_with("room:")) return with_id(KeyKind::room, after("room:"), is_code(after("room:")));
  if (key.starts_with("player:")) return with_id(KeyKind::player, after("player:"), is_id(after("player:")));
  if (key.starts_with("node:")) return with_id(KeyKind::node, after("node:"), is_id(after("node:")));
  if (key.starts_with("votes:elimination:"))
    return with_id(KeyKind::votes_elimination, after("votes:elimination:"), is_code(after("votes:elimination:")));
  if (key.starts_with("votes:final:"))
    return with_id(KeyKind::votes_final, after("votes:final:"), is_code(after("votes:final:")));
  if (key.starts_with("game:") && key.ends_with(":state")) {
    const auto code = key.substr(5, key.size() - 5 - 6);
    return with_id(KeyKind::game_state, code, is_code(code));
  }
  if (key.starts_with("ratelimit:")) {
    const auto rest = after("ratelimit:");
    const auto colon = rest.rfind(':');
    const bool valid = colon != std::string_view::npos && is_id(rest.substr(0, colon)) && colon + 1 < rest.size();
    return with_id(KeyKind::ratelimit, rest.substr(0, colon == std::string_view::npos ? rest.size() : colon), valid);
  }
  return {};
}

std::string_view kind_name(KeyKind kind) {
  switch (kind) {
    case KeyKind::room: return "room";
    case KeyKind::player: return "player";
    case KeyKind::game_state: return "game_state";
    case KeyKind::votes_elimination: return "votes_elimination";
    case KeyKind::votes_final: return "votes_final";
    case KeyKind::ratelimit: return "ratelimit";
    case KeyKind::node: return "node";
    case KeyKind::rooms_active: return "rooms_active";
    case KeyKind::other: return "other";
  }
  return "other";
}

}  // namespace mtown::core::redis_keys
