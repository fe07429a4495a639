// Player tokens as mtown uses them: the settings check at startup (--dev, the secret),
// minting (guest endpoint, `mtown token`) and verification with the configured
// issuer, audience and leeway. Pure functions of the config and the time passed in.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "mtown/core/config.hpp"
#include "mtown/core/jwt.hpp"

namespace mtown::core {

// The well-known key --dev runs with when no secret is set; refused outside --dev.
inline constexpr std::string_view kDevJwtSecret = "mtown-dev-secret-never-use-in-production";
inline constexpr std::size_t kMinJwtSecretBytes = 32;  // RFC 7518 3.2: a key as long as the hash

// Resolves auth.mode "auto" (required, optional with --dev) into auth_required and, with
// --dev and no secret, sets the development secret. Throws ConfigError naming
// auth.jwt_secret when the secret is missing, short or the development one outside --dev.
void resolve_auth(ServeConfig& config, bool dev);

// A token for `player` (sub), with iss/aud from config, iat/nbf = now, exp = now + ttl_s,
// and `name` when not empty.
std::string mint_player_token(const ServeConfig& config, std::string_view player, std::int64_t ttl_s,
                              std::int64_t now_s, std::string_view name = {});
JwtResult verify_player_token(const ServeConfig& config, std::string_view token, std::int64_t now_s);

// Seconds since the Unix epoch, the clock tokens use.
std::int64_t epoch_s();

}  // namespace mtown::core
