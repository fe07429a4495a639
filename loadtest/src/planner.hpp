// Which bot plays what, in which room, on which worker thread, and when it connects.
// Deterministic: the same options give the same plan.
#pragma once
#include <map>
#include <vector>

#include "worker.hpp"

namespace mtown::loadtest {

struct Plan {
  struct Entry {
    int worker;
    PlannedBot bot;
  };
  std::vector<Entry> bots;  // in start order
  std::map<Scenario, int> per_scenario;
};

// Throws std::invalid_argument when a scenario gets a single bot (a room needs two).
Plan plan_bots(const Options& o);

}  // namespace mtown::loadtest
