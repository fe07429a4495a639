// JWT HS256: the RFC 7515 appendix A.1 / RFC 7519 section 3.1 vector, base64url, and every
// rejection reason.
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "mtown/core/auth.hpp"
#include "mtown/core/jwt.hpp"

using namespace mtown::core;
using nlohmann::json;

namespace {

// RFC 7515 A.1: the JWK's "k", the compact token and its claims (exp 1300819380, iss "joe").
const std::string kRfcKeyB64 = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
const std::string kRfcToken =
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

const std::string kKey = "0123456789abcdef0123456789abcdef-test-key";
const JwtExpectations kExpect{"mtown", "game", 0};
constexpr std::int64_t kNow = 1'700'000'000;

json claims(json extra = json::object()) {
  json c{{"sub", "p_alice"}, {"iss", "mtown"}, {"aud", "game"}, {"exp", kNow + 60}, {"nbf", kNow - 60}};
  c.update(extra);
  return c;
}

std::string b64(const std::string& s) { return base64url_encode(s); }

JwtError error_of(const JwtResult& r) {
  REQUIRE(std::holds_alternative<JwtError>(r));
  return std::get<JwtError>(r);
}

}  // namespace

TEST_CASE("jwt: base64url round trip and strictness", "[jwt]") {
  for (const std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\x00\x01"}) {
    INFO(s);
    const auto enc = base64url_encode(s);
    CHECK(enc.find('=') == std::string::npos);
    CHECK(base64url_decode(enc) == s);
  }
  CHECK(base64url_encode("foobar") == "Zm9vYmFy");
  CHECK(base64url_encode("\xfb\xff") == "-_8");
  CHECK_FALSE(base64url_decode("Zm9v=").has_value());   // padding
  CHECK_FALSE(base64url_decode("Zm9v+/").has_value());  // the non-URL alphabet
  CHECK_FALSE(base64url_decode("Z").has_value());       // impossible length
  CHECK_FALSE(base64url_decode("Zh").has_value());      // non-zero leftover bits: not canonical
  CHECK(base64url_decode("Zg") == "f");
}

TEST_CASE("jwt: the RFC 7515 A.1 HS256 example verifies", "[jwt]") {
  const auto key = *base64url_decode(kRfcKeyB64);
  REQUIRE(key.size() == 64);
  // The example has no aud or sub, so a verifier that checked the signature and the times
  // gets as far as the audience; a wrong key stops at the signature.
  const JwtExpectations joe{"joe", "any", 0};
  CHECK(error_of(verify_jwt(kRfcToken, key, joe, 1300819379)) == JwtError::wrong_audience);
  CHECK(error_of(verify_jwt(kRfcToken, key, joe, 1300819380)) == JwtError::expired);
  CHECK(error_of(verify_jwt(kRfcToken, key + "x", joe, 1300819379)) == JwtError::bad_signature);
  CHECK(error_of(verify_jwt(kRfcToken, key, {"bob", "any", 0}, 1300819379)) == JwtError::wrong_issuer);
}

TEST_CASE("jwt: sign then verify", "[jwt]") {
  const auto token = sign_jwt(claims({{"name", "Alice"}}), kKey);
  const auto r = verify_jwt(token, kKey, kExpect, kNow);
  REQUIRE(std::holds_alternative<JwtClaims>(r));
  const auto& c = std::get<JwtClaims>(r);
  CHECK(c.subject == "p_alice");
  CHECK(c.expires_at_s == kNow + 60);
  CHECK(c.payload["name"] == "Alice");
  // aud may be an array naming the audience among others (RFC 7519 4.1.3).
  CHECK(std::holds_alternative<JwtClaims>(
      verify_jwt(sign_jwt(claims({{"aud", {"other", "game"}}}), kKey), kKey, kExpect, kNow)));
  // leeway covers clock skew on both ends
  const JwtExpectations lenient{"mtown", "game", 30};
  CHECK(std::holds_alternative<JwtClaims>(verify_jwt(sign_jwt(claims({{"exp", kNow - 10}}), kKey), kKey, lenient, kNow)));
  CHECK(std::holds_alternative<JwtClaims>(verify_jwt(sign_jwt(claims({{"nbf", kNow + 10}}), kKey), kKey, lenient, kNow)));
}

TEST_CASE("jwt: every rejection reason", "[jwt]") {
  const auto good = sign_jwt(claims(), kKey);
  const auto dot1 = good.find('.'), dot2 = good.rfind('.');
  const auto header = good.substr(0, dot1), payload = good.substr(dot1 + 1, dot2 - dot1 - 1);
  const auto signature = good.substr(dot2 + 1);
  const auto check = [&](const std::string& token, JwtError want) {
    INFO(token);
    CHECK(jwt_error_name(error_of(verify_jwt(token, kKey, kExpect, kNow))) == jwt_error_name(want));
  };

  SECTION("malformed") {
    check("", JwtError::malformed);
    check("abc", JwtError::malformed);
    check(header + "." + payload, JwtError::malformed);
    check(good + ".x", JwtError::malformed);
    check("!!." + payload + "." + signature, JwtError::malformed);
    check(b64("[1]") + "." + payload + "." + signature, JwtError::malformed);  // header not an object
    check(b64(std::string(20, '[')) + "." + payload + "." + signature, JwtError::malformed);
    check(std::string(kMaxTokenBytes + 1, 'a'), JwtError::malformed);
    // the signature is checked before the payload is even decoded
    check(header + "." + b64("not json") + "." + signature, JwtError::bad_signature);
  }
  SECTION("alg none, other algorithms and crit are refused before the signature") {
    check(b64(R"({"alg":"none","typ":"JWT"})") + "." + payload + ".", JwtError::unsupported_alg);
    check(b64(R"({"alg":"none"})") + "." + payload + "." + signature, JwtError::unsupported_alg);
    check(b64(R"({"alg":"HS512"})") + "." + payload + "." + signature, JwtError::unsupported_alg);
    check(b64(R"({"alg":"RS256"})") + "." + payload + "." + signature, JwtError::unsupported_alg);
    check(b64(R"({"alg":"hs256"})") + "." + payload + "." + signature, JwtError::unsupported_alg);
    check(b64(R"({"typ":"JWT"})") + "." + payload + "." + signature, JwtError::unsupported_alg);
    check(b64(R"({"alg":"HS256","crit":["exp"]})") + "." + payload + "." + signature, JwtError::unsupported_alg);
  }
  SECTION("tampered payload or signature") {
    auto tampered = claims();
    tampered["sub"] = "p_mallory";
    check(header + "." + b64(tampered.dump()) + "." + signature, JwtError::bad_signature);
    auto sig = signature;
    sig[3] = sig[3] == 'A' ? 'B' : 'A';
    check(header + "." + payload + "." + sig, JwtError::bad_signature);
    check(header + "." + payload + "." + signature.substr(0, 20), JwtError::bad_signature);
    CHECK(error_of(verify_jwt(good, kKey + "!", kExpect, kNow)) == JwtError::bad_signature);
  }
  SECTION("time claims") {
    check(sign_jwt(claims({{"exp", kNow}}), kKey), JwtError::expired);
    check(sign_jwt(claims({{"exp", kNow - 1000}}), kKey), JwtError::expired);
    auto no_exp = claims();
    no_exp.erase("exp");
    check(sign_jwt(no_exp, kKey), JwtError::expired);
    check(sign_jwt(claims({{"exp", "tomorrow"}}), kKey), JwtError::bad_claims);
    check(sign_jwt(claims({{"nbf", kNow + 1}}), kKey), JwtError::not_yet_valid);
    check(sign_jwt(claims({{"nbf", true}}), kKey), JwtError::bad_claims);
  }
  SECTION("issuer, audience and subject") {
    check(sign_jwt(claims({{"iss", "evil"}}), kKey), JwtError::wrong_issuer);
    check(sign_jwt(claims({{"iss", 1}}), kKey), JwtError::wrong_issuer);
    check(sign_jwt(claims({{"aud", "other-game"}}), kKey), JwtError::wrong_audience);
    check(sign_jwt(claims({{"aud", json::array({"a", "b"})}}), kKey), JwtError::wrong_audience);
    check(sign_jwt(claims({{"aud", nullptr}}), kKey), JwtError::wrong_audience);
    check(sign_jwt(claims({{"sub", ""}}), kKey), JwtError::bad_subject);
    check(sign_jwt(claims({{"sub", 42}}), kKey), JwtError::bad_subject);
    check(sign_jwt(claims({{"sub", "ai_deadbeef"}}), kKey), JwtError::bad_subject);  // AI seats' prefix
    check(sign_jwt(claims({{"sub", "has space"}}), kKey), JwtError::bad_subject);
    check(sign_jwt(claims({{"sub", std::string(65, 'a')}}), kKey), JwtError::bad_subject);
  }
}

TEST_CASE("jwt: player ids a token may carry", "[jwt]") {
  CHECK(is_valid_player_id("p_0123abcd"));
  CHECK(is_valid_player_id("user:42@example.com"));
  CHECK(is_valid_player_id(std::string(64, 'x')));
  CHECK_FALSE(is_valid_player_id(""));
  CHECK_FALSE(is_valid_player_id(std::string(65, 'x')));
  CHECK_FALSE(is_valid_player_id("ai_1"));
  CHECK_FALSE(is_valid_player_id("a/b"));
  CHECK_FALSE(is_valid_player_id("\xc3\xa9"));
}

TEST_CASE("auth: resolve_auth and player tokens", "[jwt][auth]") {
  ServeConfig c;
  SECTION("outside --dev a secret is required, long and not the development one") {
    CHECK_THROWS_AS(resolve_auth(c, false), ConfigError);
    c.jwt_secret = "short";
    CHECK_THROWS_AS(resolve_auth(c, false), ConfigError);
    c.jwt_secret = std::string(kDevJwtSecret);
    CHECK_THROWS_AS(resolve_auth(c, false), ConfigError);
    c.jwt_secret = std::string(32, 's');
    resolve_auth(c, false);
    CHECK(c.auth_required);  // auto
    c.auth_mode = "optional";
    resolve_auth(c, false);
    CHECK_FALSE(c.auth_required);
  }
  SECTION("--dev uses the development secret and auto means optional") {
    resolve_auth(c, true);
    CHECK(c.jwt_secret == kDevJwtSecret);
    CHECK_FALSE(c.auth_required);
    c.auth_mode = "required";
    resolve_auth(c, true);
    CHECK(c.auth_required);
  }
  SECTION("mint and verify with the config's issuer, audience and leeway") {
    c.jwt_secret = std::string(40, 'k');
    c.jwt_audience = "party-night";
    const auto token = mint_player_token(c, "p_bob", 3600, kNow, "Bob");
    const auto r = verify_player_token(c, token, kNow + 3599);
    REQUIRE(std::holds_alternative<JwtClaims>(r));
    CHECK(std::get<JwtClaims>(r).subject == "p_bob");
    CHECK(std::get<JwtClaims>(r).payload["name"] == "Bob");
    CHECK(std::get<JwtError>(verify_player_token(c, token, kNow + 3600 + c.jwt_leeway_s)) == JwtError::expired);
    auto other = c;
    other.jwt_audience = "mtown";
    CHECK(std::get<JwtError>(verify_player_token(other, token, kNow)) == JwtError::wrong_audience);
  }
}
