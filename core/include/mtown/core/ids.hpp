// Opaque random identifiers for players and sessions ("p_1f0c...").
#pragma once
#include <string>
#include <string_view>

namespace mtown::core {

// prefix + 16 lower-case hex digits (64 random bits from a per-thread generator).
std::string random_id(std::string_view prefix);

}  // namespace mtown::core
