#include "mtown/core/games.hpp"

#include <array>

namespace mtown::core {
namespace {
constexpr std::array kGames{
    GameInfo{"arena", 2, 8, "real-time arena at 60 Hz"},
    GameInfo{"party", 2, 8, "party quiz: spot the machine's answer"},
};
}  // namespace

std::span<const GameInfo> game_catalog() { return kGames; }

const GameInfo* find_game(std::string_view name) {
  for (const auto& g : kGames)
    if (g.name == name) return &g;
  return nullptr;
}

}  // namespace mtown::core
