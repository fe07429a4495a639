#include "mtown/core/ids.hpp"

#include <cstdio>
#include <random>

namespace mtown::core {

std::string random_id(std::string_view prefix) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(rng()));
  return std::string(prefix) + hex;
}

}  // namespace mtown::core
