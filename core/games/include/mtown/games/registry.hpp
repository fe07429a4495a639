// Building games by name, shared by the server, replay and load-test bots.
// Two steps, so recordings are self-contained: prepare_options() turns what a client
// asked for into the complete options (the party's questions drawn from the pool with
// the room's Rng); create_game() builds a game from complete options alone.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtown/core/game.hpp"
#include "mtown/games/party.hpp"

namespace mtown::games {

// The question pool compiled into the binary (examples/questions.json).
const std::vector<Question>& builtin_questions();

// Throws std::invalid_argument naming the bad option.
nlohmann::json prepare_options(std::string_view game, const nlohmann::json& requested,
                               const std::vector<Question>& pool, core::Rng& rng);
// Throws std::invalid_argument on an unknown game or bad options.
std::unique_ptr<core::Game> create_game(std::string_view game, const nlohmann::json& options);

// A game's fast parser of an input's data as compact JSON text (arena_parse_input_text):
// true when it filled `out` as Game::check_input would for the parsed data. It must
// decline what the room checks beyond check_input (leave, ai_takeover, host actions:
// Room::do_input). A pure function, callable on any thread. nullptr for a game without
// one (party: its inputs are few and carry free text).
using InputTextParser = bool (*)(std::string_view data, core::ParsedInput& out);
InputTextParser input_text_parser(std::string_view game);

}  // namespace mtown::games
