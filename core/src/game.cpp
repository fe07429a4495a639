#include "mtown/core/game.hpp"

namespace mtown::core {

std::string_view ai_difficulty_name(AiDifficulty d) {
  switch (d) {
    case AiDifficulty::easy: return "easy";
    case AiDifficulty::medium: return "medium";
    case AiDifficulty::hard: return "hard";
  }
  return "medium";
}

std::optional<AiDifficulty> parse_ai_difficulty(std::string_view s) {
  if (s == "easy") return AiDifficulty::easy;
  if (s == "medium") return AiDifficulty::medium;
  if (s == "hard") return AiDifficulty::hard;
  return std::nullopt;
}

}  // namespace mtown::core
