#include "mtown/server/client_gate.hpp"

#include <chrono>

#include "mtown/core/auth.hpp"
#include "mtown/core/log.hpp"
#include "mtown/server/live_state.hpp"
#include "mtown/server/server_context.hpp"

namespace mtown::server {
namespace {

using core::ActionClass;
using core::ClientType;
using core::ErrorCode;
using nlohmann::json;
using namespace std::chrono_literals;

// Token from `Authorization: Bearer T`, else from `?token=T` (browsers cannot set headers
// on a WebSocket). Tokens are base64url and dots, so the query value needs no decoding.
std::optional<std::string_view> upgrade_token(const HttpRequest& req) {
  const std::string_view auth = req[http::field::authorization];
  if (auth.size() > 7 && (auth.starts_with("Bearer ") || auth.starts_with("bearer "))) return auth.substr(7);
  return query_param(req.target(), "token");
}

bool origin_allowed(std::string_view origin, std::string_view allowed) {
  if (allowed.empty() || origin.empty()) return true;  // no list, or not a browser
  while (!allowed.empty()) {
    const auto comma = allowed.find(',');
    auto entry = allowed.substr(0, comma);
    while (!entry.empty() && entry.front() == ' ') entry.remove_prefix(1);
    while (!entry.empty() && entry.back() == ' ') entry.remove_suffix(1);
    if (entry == origin) return true;
    allowed = comma == std::string_view::npos ? "" : allowed.substr(comma + 1);
  }
  return false;
}

ErrorCode auth_error_code(core::JwtError e) {
  return e == core::JwtError::expired ? ErrorCode::token_expired : ErrorCode::auth_failed;
}

std::string auth_error_message(core::JwtError e) {
  return "token refused: " + std::string(core::jwt_error_name(e));
}

}  // namespace

std::variant<Admission, HttpResponse> admit_upgrade(const HttpRequest& req, ServerContext& ctx, const std::string& ip) {
  const auto& cfg = ctx.config;
  if (!origin_allowed(req[http::field::origin], cfg.allowed_origins)) {
    core::log_info("origin_refused", {{"origin", req[http::field::origin]}, {"ip", ip}});
    return json_error(req, http::status::forbidden, "ORIGIN_NOT_ALLOWED", "this Origin may not open a WebSocket here");
  }
  std::optional<core::JwtClaims> claims;
  if (const auto token = upgrade_token(req)) {
    auto result = core::verify_player_token(cfg, *token, core::epoch_s());
    if (const auto* bad = std::get_if<core::JwtError>(&result)) {
      core::log_info("token_refused", {{"reason", core::jwt_error_name(*bad)}, {"ip", ip}});
      return json_error(req, http::status::unauthorized, core::error_code_name(auth_error_code(*bad)),
                        auth_error_message(*bad));
    }
    claims = std::move(std::get<core::JwtClaims>(result));
  }
  if (!ctx.ip_connections.try_acquire(ip, cfg.max_connections_per_ip)) {
    core::log_warn("connection_limit_per_ip", {{"ip", ip}, {"max_connections_per_ip", cfg.max_connections_per_ip}});
    return json_error(req, http::status::service_unavailable, "TOO_MANY_CONNECTIONS",
                      "this address holds its maximum number of connections");
  }
  return Admission{ip, std::move(claims), IpSlot(ctx.ip_connections, ip)};
}

boost::beast::websocket::stream_base::timeout ws_timeouts(const core::ServeConfig& config) {
  boost::beast::websocket::stream_base::timeout t{};
  t.handshake_timeout = std::chrono::milliseconds(config.handshake_timeout_ms);
  // Liveness is the session heartbeat (session.heartbeat_*), not Beast's idle timer.
  t.idle_timeout = boost::beast::websocket::stream_base::none();
  t.keep_alive_pings = false;
  return t;
}

ClientGate::ClientGate(ServerContext& ctx, Admission admission, boost::asio::any_io_executor executor)
    : ctx_(ctx),
      admission_(std::move(admission)),
      authenticated_(admission_.claims.has_value()),
      auth_deadline_(std::move(executor)),
      frames_(core::RateRule{static_cast<double>(ctx.config.messages_per_s), 2.0 * ctx.config.messages_per_s},
              core::RateClock::now()),
      strikes_(core::RateRule::per_minute(ctx.config.abuse_strikes, ctx.config.abuse_strikes), core::RateClock::now()) {}

void ClientGate::start(std::function<void()> on_timeout) {
  if (!ctx_.config.auth_required || authenticated_) return;
  auth_deadline_.expires_after(std::chrono::milliseconds(ctx_.config.handshake_timeout_ms));
  auth_deadline_.async_wait([on_timeout = std::move(on_timeout)](boost::system::error_code ec) {
    if (!ec) on_timeout();
  });
}

void ClientGate::stop() { auth_deadline_.cancel(); }

std::optional<ClientGate::Refusal> ClientGate::on_frame() {
  const auto wait = frames_.try_take(core::RateClock::now());
  if (wait.count() == 0) return std::nullopt;
  return rate_limited(wait, nullptr, nullptr, "too many messages");
}

std::optional<ClientGate::Refusal> ClientGate::admit(const core::ClientMessage& msg, const std::string& player_id) {
  if (msg.type != ClientType::ping)
    if (auto refusal = unauthenticated(msg.rid)) return refusal;
  std::optional<ActionClass> cls;
  switch (msg.type) {
    case ClientType::input: {
      const auto seq = msg.body.find(std::string_view("input_seq"));
      return take_input(player_id, &msg.rid, seq == msg.body.end() ? nullptr : &*seq);
    }
    case ClientType::chat: cls = ActionClass::chat; break;
    case ClientType::create_room: cls = ActionClass::create_room; break;
    case ClientType::join_room: {
      // Checked before the lookup: past the limit a guess learns nothing, hit or miss.
      const auto misses = ctx_.limiter.would_allow("ip:" + admission_.ip, ActionClass::join_miss);
      if (!misses) return rate_limited(misses.retry_after, &msg.rid, nullptr, "too many unknown room codes from your address");
      cls = ActionClass::join_room;
      break;
    }
    default: break;
  }
  if (!cls) return std::nullopt;
  return counted(*cls, ctx_.limiter.try_take(player_id, *cls), player_id, &msg.rid, nullptr);
}

std::optional<ClientGate::Refusal> ClientGate::admit_input(std::uint64_t input_seq, const std::string& player_id) {
  if (auto refusal = unauthenticated(json())) return refusal;
  const json seq(input_seq);
  return take_input(player_id, nullptr, &seq);
}

// Inputs come at up to 60 a second: their bucket is held, not looked up each time.
std::optional<ClientGate::Refusal> ClientGate::take_input(const std::string& player_id, const json* rid,
                                                          const json* input_seq) {
  return counted(ActionClass::input, ctx_.limiter.try_take(input_rate_, player_id, ActionClass::input), player_id, rid,
                 input_seq);
}

std::optional<ClientGate::Refusal> ClientGate::unauthenticated(const json& rid) const {
  if (authenticated_ || !ctx_.config.auth_required) return std::nullopt;
  return Refusal{core::encode_error(ErrorCode::auth_required, "send auth with a token first", rid), std::nullopt};
}

std::optional<ClientGate::Refusal> ClientGate::counted(ActionClass cls, core::RateDecision decision,
                                                       const std::string& player_id, const json* rid,
                                                       const json* input_seq) {
  if (decision) {
    if (auto* live = ctx_.rooms.live_state()) live->rate_taken(player_id, cls);
    return std::nullopt;
  }
  return rate_limited(decision.retry_after, rid, input_seq,
                      "too many " + std::string(core::action_class_name(cls)) + " messages");
}

void ClientGate::note_join_miss() { (void)ctx_.limiter.try_take("ip:" + admission_.ip, ActionClass::join_miss); }

ClientGate::Refusal ClientGate::rate_limited(std::chrono::milliseconds retry_after, const json* rid,
                                             const json* input_seq, std::string_view what) {
  json err{{"type", "error"}, {"code", "RATE_LIMITED"}, {"message", what}, {"retry_after_ms", retry_after.count()}};
  if (rid && !rid->is_null()) err["rid"] = *rid;
  if (input_seq) err["input_seq"] = *input_seq;
  Refusal refusal{core::make_message(core::ServerType::error, err, ErrorCode::rate_limited), std::nullopt};
  if (strikes_.try_take(core::RateClock::now()).count() > 0) {
    ctx_.metrics.rate_limit_closes.inc();
    core::log_warn("rate_limit_abuse", {{"ip", admission_.ip}, {"strikes", ctx_.config.abuse_strikes}});
    refusal.close = Close{kCloseRateLimited, "rate limit exceeded"};
  }
  return refusal;
}

ClientGate::AuthResult ClientGate::authenticate(const core::ClientMessage& msg, const std::string& player_id,
                                                bool in_room) {
  auto result = core::verify_player_token(ctx_.config, msg.body["token"].get<std::string>(), core::epoch_s());
  if (const auto* bad = std::get_if<core::JwtError>(&result)) {
    core::log_info("token_refused", {{"reason", core::jwt_error_name(*bad)}, {"ip", admission_.ip}});
    ctx_.metrics.auth_closes.inc();
    return {core::encode_error(auth_error_code(*bad), auth_error_message(*bad), msg.rid), std::nullopt,
            Close{kCloseAuth, "authentication failed"}};
  }
  auto& claims = std::get<core::JwtClaims>(result);
  // A connection has one identity while it is in a room or once a token named it.
  if (claims.subject != player_id && (in_room || authenticated_))
    return {core::encode_error(in_room ? ErrorCode::already_in_room : ErrorCode::auth_failed,
                               in_room ? "authenticate before joining a room" : "this connection is another player's",
                               msg.rid),
            std::nullopt, std::nullopt};
  authenticated_ = true;
  stop();
  const auto expires_ms = claims.expires_at_s > INT64_MAX / 1000 ? INT64_MAX : claims.expires_at_s * 1000;
  auto reply = core::encode_message(core::ServerType::authenticated,
                                    core::with_rid({{"player_id", claims.subject}, {"expires_at_ms", expires_ms}}, msg.rid));
  std::string id = claims.subject;
  admission_.claims = std::move(claims);
  return {std::move(reply), std::move(id), std::nullopt};
}

}  // namespace mtown::server
