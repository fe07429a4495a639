// What the party game shows: events, snapshot, result and the canonical hash. Public
// views never carry authorship or the correct/robot identity before the round's results.
#pragma once
#include <nlohmann/json.hpp>

#include "mtown/core/state_hash.hpp"
#include "party_state.hpp"

namespace mtown::games::party {

nlohmann::json phase_event(const State& s);        // {"event":"phase",...}
nlohmann::json answers_event(const State& s);      // {"event":"answers","answers":[{id,text}]}
nlohmann::json elimination_json(const State& s);   // {"eliminated","tie","counts"} (no "event")
nlohmann::json round_scores_json(const State& s);  // {"event":"round_scores",...}
nlohmann::json result_json(const State& s);        // {"winner","standings"}
nlohmann::json snapshot_json(const State& s);
void hash_state(const State& s, core::StateHasher& h);

}  // namespace mtown::games::party
