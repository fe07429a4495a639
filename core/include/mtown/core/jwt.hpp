// JSON Web Tokens, HS256 only (RFC 7519 + RFC 7515, HMAC-SHA256 through OpenSSL).
// Pure functions of (token, key, expectations, now): no clock, no I/O, thread-safe.
// Every other algorithm, `none` included, is refused before any signature check.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

namespace mtown::core {

// Why a token was refused; each has a stable name (jwt_error_name) for logs and tests.
enum class JwtError {
  malformed,          // not three base64url parts, bad base64url, not JSON objects, too long
  unsupported_alg,    // header alg is not HS256 (none, RS256, HS512, ...) or crit is present
  bad_signature,      // HMAC mismatch
  expired,            // now >= exp + leeway, or exp missing
  not_yet_valid,      // now < nbf - leeway
  wrong_issuer,       // iss missing or not the expected one
  wrong_audience,     // aud (string or array) does not name the expected audience
  bad_subject,        // sub missing, not a string, or not a valid player id
  bad_claims,         // a registered claim of the wrong type (exp not a number, ...)
};
std::string_view jwt_error_name(JwtError e);

// Tokens longer than this are refused unparsed (an HTTP header is capped at 16 KiB anyway).
inline constexpr std::size_t kMaxTokenBytes = 4096;

struct JwtExpectations {
  std::string issuer;     // required in `iss`
  std::string audience;   // required in `aud`
  std::int64_t leeway_s = 0;  // clock skew allowed on exp and nbf
};

struct JwtClaims {
  std::string subject;    // `sub`: the player id
  std::int64_t expires_at_s = 0;
  nlohmann::json payload;  // every claim, for optional ones such as `name`
};

using JwtResult = std::variant<JwtClaims, JwtError>;

// Checks structure, algorithm, signature, then exp/nbf/iss/aud/sub, in that order: a
// claim is never trusted before the signature over it is.
JwtResult verify_jwt(std::string_view token, std::string_view key, const JwtExpectations& expect,
                     std::int64_t now_s);

// Signs `payload` (an object) with HS256; the header is {"alg":"HS256","typ":"JWT"}.
std::string sign_jwt(const nlohmann::json& payload, std::string_view key);

// A player id as a token's `sub` may name it: 1-64 characters from [A-Za-z0-9_.:@-], not
// starting with "ai_" (AI seats' prefix).
bool is_valid_player_id(std::string_view id);

std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);  // no padding accepted

}  // namespace mtown::core
