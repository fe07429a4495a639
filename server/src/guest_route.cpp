// POST /auth/guest: a short-lived token for a guest player, for development and games
// without accounts. Limited per client address; auth.guest_enabled turns it off.
#include <chrono>

#include "mtown/core/auth.hpp"
#include "mtown/core/ids.hpp"
#include "mtown/core/log.hpp"
#include "mtown/core/text.hpp"
#include "mtown/server/http_routes.hpp"

namespace mtown::server {
namespace {

constexpr std::size_t kGuestNameMaxChars = 32;  // as player names in the protocol

}  // namespace

HttpResponse guest_token(const HttpRequest& req, ServerContext& ctx, std::string_view client_ip) {
  if (req.method() != http::verb::post) return method_not_allowed(req, "POST");
  const auto& cfg = ctx.config;
  if (!cfg.guest_enabled)
    return json_error(req, http::status::forbidden, "GUESTS_DISABLED", "guest tokens are off (auth.guest_enabled)");
  const auto& body = req.body();
  auto doc = core::json_depth(body) > core::kMaxJsonDepth ? nlohmann::json()
                                                           : nlohmann::json::parse(body, nullptr, false);
  if (!doc.is_object() || doc.size() != 1 || !doc.contains("name") || !doc["name"].is_string())
    return json_error(req, http::status::bad_request, "BAD_REQUEST", R"(expected {"name": "1-32 characters"})");
  const auto& raw = doc["name"].get_ref<const std::string&>();
  auto name = core::utf8_length(raw) > kGuestNameMaxChars ? std::string() : core::clean_text(raw, kGuestNameMaxChars);
  if (name.empty())
    return json_error(req, http::status::bad_request, "BAD_REQUEST", "name must be 1-32 characters once cleaned");
  // Counted once the request is good: only minted tokens count.
  const auto decision = ctx.limiter.try_take("ip:" + std::string(client_ip), core::ActionClass::guest_token);
  if (!decision) {
    auto res = respond_json(req, http::status::too_many_requests,
                            {{"code", "RATE_LIMITED"}, {"message", "too many guest tokens from your address"},
                             {"retry_after_ms", decision.retry_after.count()}});
    res.set(http::field::retry_after, std::to_string((decision.retry_after.count() + 999) / 1000));
    return res;
  }
  const auto player = core::random_id("g_");
  const auto now = core::epoch_s();
  auto token = core::mint_player_token(cfg, player, cfg.guest_ttl_s, now, name);
  core::log_info("guest_token", {{"player", player}, {"ip", client_ip}});
  return respond_json(req, http::status::ok,
                      {{"token", std::move(token)}, {"player_id", player}, {"name", name},
                       {"expires_at_ms", (now + cfg.guest_ttl_s) * 1000}});
}

}  // namespace mtown::server
