// The party game's input payloads: static shape checks (no state) and answer cleaning.
// schemas/games/party/input.json describes the same shapes for clients.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "mtown/core/game.hpp"

namespace mtown::games::party {

enum class Action { answer, vote, end_phase, next_round, leave, ai_takeover };

// Shape only: action known, exactly the fields that action takes, types and ranges.
// Refusals are ErrorCode::bad_message and start with the field's name.
std::optional<core::InputRefusal> validate_input_data(const nlohmann::json& data);

// The action of data that passed validate_input_data.
Action input_action(const nlohmann::json& data);

bool is_host_input(const nlohmann::json& data);

// A player's answer as stored and shown: '<' and '>' removed, then core::clean_text
// (control characters stripped, spaces trimmed, at most 100 characters). May be empty.
std::string clean_answer(std::string_view raw);

}  // namespace mtown::games::party
