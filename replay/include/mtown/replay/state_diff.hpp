// Field-by-field difference of two JSON states, for divergence reports: each leaf that
// differs, as a JSON pointer with the expected (recorded) and actual (replayed) value.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mtown::replay {

struct FieldDiff {
  std::string path;          // JSON pointer ("/players/3/x"); "" is the whole value
  nlohmann::json expected;   // null when the field is missing there
  nlohmann::json actual;
  bool operator==(const FieldDiff&) const = default;
};

// Leaves that differ, in document order, at most `limit` of them. Objects are compared
// key by key; arrays index by index (a missing element shows as null on its side).
std::vector<FieldDiff> diff_states(const nlohmann::json& expected, const nlohmann::json& actual,
                                   const std::string& prefix = "", std::size_t limit = 64);

}  // namespace mtown::replay
