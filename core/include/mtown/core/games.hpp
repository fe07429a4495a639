// The catalog of games a server can run. Rules arrive per game; the catalog is what the
// lobby needs: names and seat limits.
#pragma once
#include <span>
#include <string_view>

namespace mtown::core {

struct GameInfo {
  std::string_view name;
  int min_players;
  int max_players;
  std::string_view description;
};

std::span<const GameInfo> game_catalog();
const GameInfo* find_game(std::string_view name);

}  // namespace mtown::core
