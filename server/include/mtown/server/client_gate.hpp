// What a client may do, apart from the protocol itself: admission at the WebSocket
// upgrade (Origin allow-list, connections per IP, a token in the Authorization header or
// ?token=), then, per connection, the auth state and the rate limits (docs/security.md).
// A ClientGate belongs to one WsSession and runs on its strand; the counters it shares
// live in ServerContext and are thread-safe.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/websocket/stream_base.hpp>

#include "mtown/core/jwt.hpp"
#include "mtown/core/protocol.hpp"
#include "mtown/core/rate_limit.hpp"
#include "mtown/server/http_routes.hpp"
#include "mtown/server/ip_connections.hpp"

namespace mtown::server {

// Close codes of the application range (protocol.md).
inline constexpr std::uint16_t kCloseAuth = 4001;         // no valid token in time, or a bad one
inline constexpr std::uint16_t kCloseRateLimited = 4029;  // sustained abuse of the rate limits

// What an accepted upgrade hands to its WsSession.
struct Admission {
  std::string ip;
  std::optional<core::JwtClaims> claims;  // from the Authorization header or ?token=
  IpSlot slot;
};

struct ServerContext;

// Origin, token and per-IP checks of an upgrade request, in that order: an Admission,
// or the HTTP response refusing it (403 ORIGIN_NOT_ALLOWED, 401 AUTH_FAILED /
// TOKEN_EXPIRED, 503 TOO_MANY_CONNECTIONS).
std::variant<Admission, HttpResponse> admit_upgrade(const HttpRequest& req, ServerContext& ctx, const std::string& ip);

// The WebSocket handshake timeout of limits.handshake_timeout_ms (no idle timer: the heartbeat).
boost::beast::websocket::stream_base::timeout ws_timeouts(const core::ServeConfig& config);

class ClientGate {
 public:
  struct Close {
    std::uint16_t code;
    std::string reason;
  };
  // What to send instead of handling a message, and whether to close afterwards.
  struct Refusal {
    core::SharedMessage reply;
    std::optional<Close> close;
  };
  struct AuthResult {
    core::SharedMessage reply;
    std::optional<std::string> player_id;  // set on success: the connection's new player id
    std::optional<Close> close;
  };

  ClientGate(ServerContext& ctx, Admission admission, boost::asio::any_io_executor executor);

  // Arms the auth deadline when auth is required and the upgrade carried no token;
  // `on_timeout` runs on the executor if no valid `auth` came in time.
  void start(std::function<void()> on_timeout);
  void stop();  // cancels the deadline

  // Every frame, valid or not: the per-connection message rate.
  std::optional<Refusal> on_frame();
  // A decoded message: auth state, then the player's rate for the message's class.
  std::optional<Refusal> admit(const core::ClientMessage& msg, const std::string& player_id);
  // The fast path's input (core/input_frame.hpp): what admit() does for an `input` with
  // this input_seq and no rid.
  std::optional<Refusal> admit_input(std::uint64_t input_seq, const std::string& player_id);
  // A join_room whose code matched no open room (counted per IP against code guessing).
  void note_join_miss();
  AuthResult authenticate(const core::ClientMessage& msg, const std::string& player_id, bool in_room);

  // The token's subject when the upgrade carried a valid token (or `auth` succeeded); empty: anonymous.
  std::string claimed_player() const { return admission_.claims ? admission_.claims->subject : std::string(); }

 private:
  // rid and input_seq, when not null, are echoed.
  Refusal rate_limited(std::chrono::milliseconds retry_after, const nlohmann::json* rid, const nlohmann::json* input_seq,
                       std::string_view what);
  std::optional<Refusal> take_input(const std::string& player_id, const nlohmann::json* rid, const nlohmann::json* input_seq);
  std::optional<Refusal> unauthenticated(const nlohmann::json& rid) const;  // AUTH_REQUIRED until auth
  // A taken token is reported to the live state; a refusal echoes rid and input_seq.
  std::optional<Refusal> counted(core::ActionClass cls, core::RateDecision decision, const std::string& player_id,
                                 const nlohmann::json* rid, const nlohmann::json* input_seq);

  ServerContext& ctx_;
  Admission admission_;
  bool authenticated_;
  boost::asio::steady_timer auth_deadline_;
  core::TokenBucket frames_;
  core::TokenBucket strikes_;  // RATE_LIMITED refusals left before the connection is closed
  core::RateLimiter::Held input_rate_;  // the player's input bucket, shared with its other connections
};

}  // namespace mtown::server
