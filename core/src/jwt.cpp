#include "mtown/core/jwt.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cmath>
#include <stdexcept>

#include "mtown/core/protocol.hpp"

namespace mtown::core {
namespace {

using nlohmann::json;

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

std::array<unsigned char, 32> hmac_sha256(std::string_view key, std::string_view data) {
  std::array<unsigned char, 32> mac{};
  unsigned int len = 0;
  // A zero-length key is passed as one readable byte with length 0: OpenSSL refuses a null key.
  static const unsigned char kEmpty = 0;
  const auto* k = key.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(key.data());
  if (!HMAC(EVP_sha256(), k, static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
            data.size(), mac.data(), &len) ||
      len != mac.size())
    throw std::runtime_error("HMAC-SHA256 failed");
  return mac;
}

// A JSON object from one base64url part, or nullopt. Depth is checked before parsing.
std::optional<json> decode_part(std::string_view part) {
  const auto text = base64url_decode(part);
  if (!text || json_depth(*text) > kMaxJsonDepth) return std::nullopt;
  json doc = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return std::nullopt;
  return doc;
}

// exp / nbf: a JSON number (NumericDate, RFC 7519 section 2); nullopt when of another type.
std::optional<double> numeric_date(const json& v) {
  if (!v.is_number()) return std::nullopt;
  return v.get<double>();
}

std::optional<JwtError> check_claims(const json& p, const JwtExpectations& expect, std::int64_t now_s) {
  const double now = static_cast<double>(now_s), leeway = static_cast<double>(expect.leeway_s);
  const auto exp_it = p.find("exp");
  if (exp_it == p.end()) return JwtError::expired;  // a token that never expires is not accepted
  const auto exp = numeric_date(*exp_it);
  if (!exp) return JwtError::bad_claims;
  if (now >= *exp + leeway) return JwtError::expired;
  if (const auto nbf_it = p.find("nbf"); nbf_it != p.end()) {
    const auto nbf = numeric_date(*nbf_it);
    if (!nbf) return JwtError::bad_claims;
    if (now < *nbf - leeway) return JwtError::not_yet_valid;
  }
  const auto iss = p.find("iss");
  if (iss == p.end() || !iss->is_string() || iss->get_ref<const std::string&>() != expect.issuer)
    return JwtError::wrong_issuer;
  const auto aud = p.find("aud");
  bool aud_ok = false;
  if (aud != p.end() && aud->is_string()) aud_ok = aud->get_ref<const std::string&>() == expect.audience;
  if (aud != p.end() && aud->is_array())
    for (const auto& a : *aud) aud_ok = aud_ok || (a.is_string() && a.get_ref<const std::string&>() == expect.audience);
  if (!aud_ok) return JwtError::wrong_audience;
  const auto sub = p.find("sub");
  if (sub == p.end() || !sub->is_string() || !is_valid_player_id(sub->get_ref<const std::string&>()))
    return JwtError::bad_subject;
  return std::nullopt;
}

}  // namespace

std::string_view jwt_error_name(JwtError e) {
  switch (e) {
    case JwtError::malformed: return "malformed";
    case JwtError::unsupported_alg: return "unsupported_alg";
    case JwtError::bad_signature: return "bad_signature";
    case JwtError::expired: return "expired";
    case JwtError::not_yet_valid: return "not_yet_valid";
    case JwtError::wrong_issuer: return "wrong_issuer";
    case JwtError::wrong_audience: return "wrong_audience";
    case JwtError::bad_subject: return "bad_subject";
    case JwtError::bad_claims: return "bad_claims";
  }
  return "?";
}

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) out += kAlphabet[(acc >> (bits -= 6)) & 0x3F];
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 0x3F];
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const int v = sextet(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) out += static_cast<char>((acc >> (bits -= 8)) & 0xFF);
  }
  // Leftover bits must be zero: one canonical text per byte string, so a signature part
  // cannot be altered without changing its bytes.
  if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

bool is_valid_player_id(std::string_view id) {
  if (id.empty() || id.size() > 64 || id.starts_with("ai_")) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '.' || c == ':' || c == '@' || c == '-';
    if (!ok) return false;
  }
  return true;
}

JwtResult verify_jwt(std::string_view token, std::string_view key, const JwtExpectations& expect, std::int64_t now_s) {
  if (token.size() > kMaxTokenBytes) return JwtError::malformed;
  const auto dot1 = token.find('.');
  const auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) return JwtError::malformed;
  const auto header = decode_part(token.substr(0, dot1));
  if (!header) return JwtError::malformed;
  // Only HS256: never let the token choose how it is checked (alg "none", RS256 with the
  // secret as a public key, ...). `crit` names extensions this verifier does not implement.
  const auto alg = header->find("alg");
  if (alg == header->end() || *alg != "HS256" || header->contains("crit")) return JwtError::unsupported_alg;
  const auto signature = base64url_decode(token.substr(dot2 + 1));
  if (!signature) return JwtError::malformed;
  const auto mac = hmac_sha256(key, token.substr(0, dot2));
  if (signature->size() != mac.size() || CRYPTO_memcmp(signature->data(), mac.data(), mac.size()) != 0)
    return JwtError::bad_signature;
  auto payload = decode_part(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!payload) return JwtError::malformed;
  if (auto bad = check_claims(*payload, expect, now_s)) return *bad;
  JwtClaims claims;
  claims.subject = (*payload)["sub"].get<std::string>();
  const double exp = (*payload)["exp"].get<double>();
  claims.expires_at_s = exp >= 9.2e18 ? INT64_MAX : static_cast<std::int64_t>(std::floor(exp));
  claims.payload = std::move(*payload);
  return claims;
}

std::string sign_jwt(const json& payload, std::string_view key) {
  if (!payload.is_object()) throw std::invalid_argument("a JWT payload must be an object");
  const std::string signing_input =
      base64url_encode(R"({"alg":"HS256","typ":"JWT"})") + "." + base64url_encode(payload.dump());
  const auto mac = hmac_sha256(key, signing_input);
  return signing_input + "." + base64url_encode(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
}

}  // namespace mtown::core
