// AI seats: how long they take and what they write or vote. Every choice is drawn from the
// room Rng in a fixed order, so AI play is reproducible from seed + inputs.
#pragma once
#include <string>
#include <vector>

#include "mtown/core/game.hpp"
#include "party_state.hpp"

namespace mtown::games::party {

// Response latency in ms: easy 8000-12000, medium 4000-8000, hard 2000-4000.
Tick ai_latency_ms(core::AiDifficulty d, core::Rng& rng);

// Chance in percent that an AI votes for the truth: easy 30, medium 55, hard 80.
std::uint32_t ai_truth_percent(core::AiDifficulty d);

// A fake answer: one of q.decoys not equal to the correct or robot answer nor to a text in
// `taken` (normalized), else one of a generic list; never the correct or robot text.
std::string ai_fake_answer(const Question& q, const std::vector<std::string>& taken, core::Rng& rng);

// A vote among `allowed` (indices into State::shown, ascending): `truth` with
// ai_truth_percent when it is allowed, otherwise uniformly among the other allowed ones.
int ai_vote(core::AiDifficulty d, int truth, const std::vector<int>& allowed, core::Rng& rng);

}  // namespace mtown::games::party
