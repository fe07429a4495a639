#include "mtown/core/auth.hpp"

#include <chrono>

namespace mtown::core {

void resolve_auth(ServeConfig& config, bool dev) {
  config.dev = dev;
  config.auth_required = config.auth_mode == "required" || (config.auth_mode == "auto" && !dev);
  if (config.jwt_secret.empty() && dev) config.jwt_secret = kDevJwtSecret;
  if (dev) return;
  if (config.jwt_secret.empty())
    throw ConfigError("auth.jwt_secret", "no secret set: set MTOWN_AUTH_JWT_SECRET (at least 32 bytes, e.g. "
                                         "`openssl rand -base64 48`), or run with --dev on a development machine");
  if (config.jwt_secret == kDevJwtSecret)
    throw ConfigError("auth.jwt_secret", "this is the public development secret; set a secret of your own or use --dev");
  if (config.jwt_secret.size() < kMinJwtSecretBytes)
    throw ConfigError("auth.jwt_secret", "too short: HS256 needs at least " + std::to_string(kMinJwtSecretBytes) + " bytes");
}

std::string mint_player_token(const ServeConfig& config, std::string_view player, std::int64_t ttl_s,
                              std::int64_t now_s, std::string_view name) {
  nlohmann::json claims{{"sub", player},          {"iss", config.jwt_issuer}, {"aud", config.jwt_audience},
                        {"iat", now_s},           {"nbf", now_s},             {"exp", now_s + ttl_s}};
  if (!name.empty()) claims["name"] = name;
  return sign_jwt(claims, config.jwt_secret);
}

JwtResult verify_player_token(const ServeConfig& config, std::string_view token, std::int64_t now_s) {
  return verify_jwt(token, config.jwt_secret, {config.jwt_issuer, config.jwt_audience, config.jwt_leeway_s}, now_s);
}

std::int64_t epoch_s() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace mtown::core
