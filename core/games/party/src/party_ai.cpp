// AI seat decisions (latency, fake answer, votes). Pure functions of their arguments and
// the Rng; the rules decide when they are called.
#include "party_ai.hpp"

#include <algorithm>
#include <array>

namespace mtown::games::party {
namespace {

constexpr std::array<std::string_view, 12> kGenericDecoys{
    "A rubber duck",   "Nobody knows",    "Grandma's secret", "The moon",
    "Forty-two",       "A very tall llama", "Last Tuesday",   "Cheese",
    "A tiny robot",    "Purple",          "Seventeen",        "A lighthouse keeper",
};

bool usable(std::string_view text, const Question& q, const std::vector<std::string>& taken_norm) {
  const std::string norm = normalize_answer(text);
  return norm != normalize_answer(q.correct) && norm != normalize_answer(q.robot) &&
         std::find(taken_norm.begin(), taken_norm.end(), norm) == taken_norm.end();
}

}  // namespace

Tick ai_latency_ms(core::AiDifficulty d, core::Rng& rng) {
  switch (d) {
    case core::AiDifficulty::easy: return static_cast<Tick>(rng.between(8000, 12000));
    case core::AiDifficulty::medium: return static_cast<Tick>(rng.between(4000, 8000));
    case core::AiDifficulty::hard: return static_cast<Tick>(rng.between(2000, 4000));
  }
  return 6000;
}

std::uint32_t ai_truth_percent(core::AiDifficulty d) {
  switch (d) {
    case core::AiDifficulty::easy: return 30;
    case core::AiDifficulty::medium: return 55;
    case core::AiDifficulty::hard: return 80;
  }
  return 55;
}

std::string ai_fake_answer(const Question& q, const std::vector<std::string>& taken, core::Rng& rng) {
  std::vector<std::string> taken_norm;
  for (const auto& t : taken) taken_norm.push_back(normalize_answer(t));
  std::vector<std::string> options;
  for (const auto& d : q.decoys)
    if (usable(d, q, taken_norm)) options.push_back(d);
  if (options.empty())
    for (auto d : kGenericDecoys)
      if (usable(d, q, taken_norm)) options.emplace_back(d);
  if (options.empty()) {
    // Only reachable with a pool whose answers are the generic decoys: still never the truth.
    for (int n = 1;; ++n) {
      std::string s = "Mystery answer " + std::to_string(n);
      if (usable(s, q, taken_norm)) return s;
    }
  }
  return options[rng.below(static_cast<std::uint32_t>(options.size()))];
}

int ai_vote(core::AiDifficulty d, int truth, const std::vector<int>& allowed, core::Rng& rng) {
  const bool truth_allowed = std::find(allowed.begin(), allowed.end(), truth) != allowed.end();
  if (truth_allowed && rng.chance(ai_truth_percent(d), 100)) return truth;
  std::vector<int> others;
  for (int a : allowed)
    if (a != truth) others.push_back(a);
  if (others.empty()) return truth_allowed ? truth : kNoVote;
  return others[rng.below(static_cast<std::uint32_t>(others.size()))];
}

}  // namespace mtown::games::party
