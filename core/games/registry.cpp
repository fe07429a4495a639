#include "mtown/games/registry.hpp"

#include <stdexcept>

#include "mtown/core/embedded.hpp"
#include "mtown/games/arena.hpp"

namespace mtown::games {
namespace {

nlohmann::json question_json(const Question& q) {
  return {{"id", q.id}, {"text", q.text}, {"correct", q.correct}, {"robot", q.robot}, {"decoys", q.decoys}};
}

}  // namespace

const std::vector<Question>& builtin_questions() {
  static const std::vector<Question> pool = [] {
    for (const auto& f : core::embedded::example_files())
      if (f.path.ends_with("questions.json")) return load_questions(std::string(f.text));
    throw std::logic_error("questions.json is not embedded");
  }();
  return pool;
}

nlohmann::json prepare_options(std::string_view game, const nlohmann::json& requested,
                               const std::vector<Question>& pool, core::Rng& rng) {
  if (!requested.is_object()) throw std::invalid_argument("options must be an object");
  nlohmann::json options = requested;
  if (game == "party") {
    if (options.contains("questions")) throw std::invalid_argument("questions: chosen by the server, not the client");
    const auto rounds = options.value("rounds", nlohmann::json(8));
    if (!rounds.is_number_integer() || (rounds != 8 && rounds != 12))
      throw std::invalid_argument("rounds: must be 8 or 12");
    const auto n = rounds.get<std::size_t>();
    if (pool.size() < n) throw std::invalid_argument("rounds: the question pool has only " + std::to_string(pool.size()));
    // A partial Fisher-Yates shuffle over indices: n distinct questions.
    std::vector<std::size_t> order(pool.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    nlohmann::json chosen = nlohmann::json::array();
    for (std::size_t i = 0; i < n; ++i) {
      std::swap(order[i], order[i + rng.below(static_cast<std::uint32_t>(order.size() - i))]);
      chosen.push_back(question_json(pool[order[i]]));
    }
    options["rounds"] = n;
    options["questions"] = std::move(chosen);
  }
  create_game(game, options);  // validates everything else now, before the game starts
  return options;
}

std::unique_ptr<core::Game> create_game(std::string_view game, const nlohmann::json& options) {
  if (game == "arena") return make_arena(options);
  if (game == "party") return make_party(options);
  throw std::invalid_argument("unknown game " + std::string(game));
}

InputTextParser input_text_parser(std::string_view game) { return game == "arena" ? &arena_parse_input_text : nullptr; }

}  // namespace mtown::games
