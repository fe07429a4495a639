#include "planner.hpp"

#include <stdexcept>

namespace mtown::loadtest {
namespace {

// Room sizes for n bots: full rooms, and no room of one (a game needs two seats).
std::vector<int> room_sizes(int n, int room_size) {
  std::vector<int> sizes(static_cast<std::size_t>(n / room_size), room_size);
  const int rest = n % room_size;
  if (rest == 1 && !sizes.empty() && room_size > 2) {
    sizes.back() -= 1;
    sizes.push_back(2);
  } else if (rest == 1 && !sizes.empty()) {
    sizes.back() += 1;
  } else if (rest > 0) {
    sizes.push_back(rest);
  }
  return sizes;
}

}  // namespace

Plan plan_bots(const Options& o) {
  Plan plan;
  // Bots per scenario: floor of each share, the remainder to the first scenarios.
  std::vector<int> counts;
  int assigned = 0;
  for (const auto& e : o.mix) counts.push_back(o.bots * e.percent / 100), assigned += counts.back();
  for (std::size_t i = 0; assigned < o.bots; i = (i + 1) % counts.size()) ++counts[i], ++assigned;

  // Groups (rooms; an idle bot is a group of one) per scenario.
  std::vector<std::vector<int>> groups(o.mix.size());
  for (std::size_t i = 0; i < o.mix.size(); ++i) {
    if (counts[i] == 0) continue;
    plan.per_scenario[o.mix[i].scenario] = counts[i];
    if (o.mix[i].scenario == Scenario::idle) {
      groups[i].assign(static_cast<std::size_t>(counts[i]), 1);
    } else {
      if (counts[i] < 2)
        throw std::invalid_argument(std::string("the ") + scenario_name(o.mix[i].scenario) +
                                    " scenario gets 1 bot; a room needs 2 (raise --bots)");
      groups[i] = room_sizes(counts[i], o.room_size);
    }
  }

  // Interleave the scenarios' groups so each ramps up at its share of the rate, and give
  // each group to the least loaded worker (a room's bots share one thread).
  std::vector<std::size_t> next(o.mix.size(), 0);
  std::vector<int> placed(o.mix.size(), 0), load(static_cast<std::size_t>(o.threads), 0);
  int index = 0;
  for (;;) {
    int pick = -1;
    double best = 2;
    for (std::size_t i = 0; i < o.mix.size(); ++i) {
      if (next[i] >= groups[i].size()) continue;
      const double done = static_cast<double>(placed[i]) / counts[i];
      if (done < best) best = done, pick = static_cast<int>(i);
    }
    if (pick < 0) break;
    const auto p = static_cast<std::size_t>(pick);
    const int size = groups[p][next[p]++];
    placed[p] += size;
    std::size_t worker = 0;
    for (std::size_t w = 1; w < load.size(); ++w)
      if (load[w] < load[worker]) worker = w;
    load[worker] += size;
    auto group = std::make_shared<RoomGroup>();
    group->size = static_cast<std::size_t>(size);
    for (int slot = 0; slot < size; ++slot, ++index) {
      const double at = o.ramp_per_s > 0 ? index / o.ramp_per_s : 0.0;
      plan.bots.push_back({static_cast<int>(worker), {o.mix[p].scenario, index, group, slot, at}});
    }
  }
  return plan;
}

}  // namespace mtown::loadtest
