// Opaque random identifiers for players and sessions ("p_1f0c...").
#pragma once
#include <string>
#include <string_view>

namespace mtown::core {

// prefix + 16 lower-case hex digits (64 random bits from a per-thread generator).
std::string random_id(std::string_view prefix);

// prefix + 32 lower-case hex digits: 128 bits from the kernel's CSPRNG (getrandom), for
// secrets such as resume tokens. Throws std::runtime_error if the kernel cannot supply them.
std::string random_token(std::string_view prefix);

}  // namespace mtown::core
