#include "mtown/core/config_schema.hpp"

#include <array>

namespace mtown::core {
namespace {
using T = ConfigType;
constexpr std::array kKeys{
    ConfigKey{"server.host", T::string, "127.0.0.1", 0, 0, "", "address to listen on (IPv4 or IPv6)"},
    ConfigKey{"server.port", T::integer, "8080", 0, 65535, "", "TCP port; 0 picks a free one"},
    ConfigKey{"server.threads", T::integer, "0", 0, 256, "", "io threads; 0 = hardware threads"},
    ConfigKey{"server.io_uring", T::string, "auto", 0, 0, "auto|off",
              "auto: with one io thread, a tick's state frames go out in one io_uring call and connections read through io_uring, where the kernel allows it"},
    ConfigKey{"server.shutdown_timeout_ms", T::integer, "5000", 100, 60000, "",
              "how long a graceful shutdown may take before connections are cut"},
    ConfigKey{"log.level", T::string, "info", 0, 0, "debug|info|warn|error|off", "lowest level logged"},
    ConfigKey{"log.format", T::string, "auto", 0, 0, "auto|json|text",
              "auto: text on a terminal, JSON lines otherwise"},
    ConfigKey{"rooms.max_rooms", T::integer, "10000", 1, 1000000, "", "open rooms at most (SERVER_FULL past it)"},
    ConfigKey{"rooms.empty_grace_s", T::integer, "30", 0, 86400, "", "an empty room closes after this"},
    ConfigKey{"rooms.ttl_s", T::integer, "14400", 1, 604800, "", "every room closes this long after creation"},
    ConfigKey{"rooms.tick_lanes", T::integer, "8", 1, 64, "",
              "fixed-rate rooms tick in this many evenly spaced phases of their period; 1: all at once"},
    ConfigKey{"session.resume_buffer_messages", T::integer, "100", 0, 100000, "",
              "messages each session keeps for a resume; an older gap gets a snapshot"},
    ConfigKey{"session.resume_buffer_ms", T::integer, "5000", 0, 600000, "",
              "how long each session keeps its messages for a resume"},
    ConfigKey{"session.seat_grace_s", T::integer, "300", 0, 86400, "",
              "a disconnected player keeps their seat this long; 0 releases it at once"},
    ConfigKey{"session.heartbeat_interval_ms", T::integer, "30000", 500, 3600000, "",
              "the server pings a connection this often"},
    ConfigKey{"session.heartbeat_timeout_ms", T::integer, "60000", 1000, 7200000, "",
              "a connection silent this long (no message, no pong) is cut and its seat enters its grace"},
    ConfigKey{"limits.max_connections", T::integer, "10000", 1, 1000000, "",
              "WebSocket connections at most; more are refused with 503"},
    ConfigKey{"limits.max_frame_bytes", T::integer, "65536", 256, 16777216, "",
              "largest client message; bigger closes the connection with 1009"},
    ConfigKey{"limits.write_queue_max_bytes", T::integer, "1048576", 4096, 1073741824, "",
              "bytes queued to one client before it is closed as a slow consumer (4008)"},
    ConfigKey{"limits.chat_max_chars", T::integer, "200", 1, 2000, "", "chat text is cut to this many characters"},
    // Limits and abuse (docs/security.md). Rates of 0 switch a limit off.
    ConfigKey{"limits.max_connections_per_ip", T::integer, "64", 1, 1000000, "",
              "WebSocket connections at most from one IP address; more are refused with 503"},
    ConfigKey{"limits.handshake_timeout_ms", T::integer, "10000", 100, 300000, "",
              "time allowed for an HTTP request / WebSocket handshake, and for `auth` when auth is required"},
    ConfigKey{"limits.messages_per_s", T::integer, "100", 0, 100000, "",
              "messages of any kind per connection per second (burst: 2 s worth)"},
    ConfigKey{"limits.input_per_s", T::integer, "60", 0, 100000, "", "game inputs per player per second (arena: 60 Hz)"},
    ConfigKey{"limits.input_burst", T::integer, "30", 1, 100000, "", "game inputs a player may send at once"},
    ConfigKey{"limits.chat_per_min", T::integer, "10", 0, 100000, "", "chat messages per player per minute"},
    ConfigKey{"limits.rooms_per_min", T::integer, "5", 0, 100000, "", "create_room per player per minute"},
    ConfigKey{"limits.joins_per_min", T::integer, "20", 0, 100000, "", "join_room per player per minute"},
    ConfigKey{"limits.join_misses_per_min", T::integer, "30", 0, 100000, "",
              "join_room with an unknown code per IP address per minute (room-code guessing)"},
    ConfigKey{"limits.reconnects_per_min", T::integer, "5", 0, 100000, "", "session resumes per player per minute"},
    ConfigKey{"limits.guest_tokens_per_min", T::integer, "10", 0, 100000, "", "POST /auth/guest per IP address per minute"},
    ConfigKey{"limits.abuse_strikes", T::integer, "20", 1, 100000, "",
              "RATE_LIMITED refusals per connection per minute before it is closed with 4029"},
    ConfigKey{"limits.allowed_origins", T::string, "", 0, 0, "",
              "comma-separated Origin values that may open a WebSocket; empty: any origin"},
    ConfigKey{"auth.mode", T::string, "auto", 0, 0, "auto|required|optional",
              "required: every connection needs a token; auto: required, optional with --dev"},
    ConfigKey{"auth.jwt_secret", T::string, "", 0, 0, "",
              "HS256 key, at least 32 bytes (env MTOWN_AUTH_JWT_SECRET); only --dev runs without one", true},
    ConfigKey{"auth.issuer", T::string, "mtown", 0, 0, "", "required `iss` of tokens"},
    ConfigKey{"auth.audience", T::string, "mtown", 0, 0, "", "required `aud` of tokens"},
    ConfigKey{"auth.leeway_s", T::integer, "30", 0, 600, "", "clock skew allowed on exp and nbf"},
    ConfigKey{"auth.guest_enabled", T::boolean, "true", 0, 0, "", "POST /auth/guest hands out guest tokens"},
    ConfigKey{"auth.guest_ttl_s", T::integer, "3600", 60, 86400, "", "lifetime of a guest token"},
    ConfigKey{"games.party_questions", T::string, "", 0, 0, "",
              "JSON question pool for party games (see examples/questions.json); empty: the built-in pool"},
    ConfigKey{"database.url", T::string, "sqlite:./mtown.db", 0, 0, "",
              "sqlite:PATH, postgres://..., or none"},
    ConfigKey{"recording.enabled", T::boolean, "true", 0, 0, "",
              "record every game (inputs, events, results) into database.url; off when it is none"},
    ConfigKey{"recording.batch_max_rows", T::integer, "500", 1, 100000, "", "records per database transaction at most"},
    ConfigKey{"recording.batch_max_ms", T::integer, "200", 1, 60000, "", "a record waits at most this long to be written"},
    ConfigKey{"recording.queue_max_records", T::integer, "100000", 10, 100000000, "",
              "records buffered while the database is slow or down; more are dropped and counted"},
    ConfigKey{"recording.retry_max_backoff_ms", T::integer, "5000", 10, 600000, "",
              "longest wait between write retries during a database outage"},
    ConfigKey{"recording.hash_every_ticks", T::integer, "60", 0, 1000000, "",
              "fixed-rate games: a state-hash checkpoint every N ticks (0: at the end only)"},
    ConfigKey{"redis.url", T::string, "", 0, 0, "", "redis://HOST:PORT[/DB]; empty keeps live state in memory"},
    ConfigKey{"redis.node_id", T::string, "", 0, 0, "", "this node's id in Redis (node:{id}, room owner); empty: HOST:PORT"},
    ConfigKey{"redis.key_ttl_s", T::integer, "60", 3, 86400, "",
              "TTL of the node's keys, refreshed every third of it: a dead node's keys expire after it"},
    ConfigKey{"redis.breaker_threshold", T::integer, "5", 1, 1000, "", "failed Redis attempts in a row that open the circuit breaker"},
    ConfigKey{"redis.breaker_reset_ms", T::integer, "30000", 100, 3600000, "",
              "how long an open breaker waits before one trial attempt"},
    ConfigKey{"redis.timeout_ms", T::integer, "2000", 50, 60000, "", "Redis connect and command timeout"},
    ConfigKey{"recording.mtrec_dir", T::string, "", 0, 0, "",
              "also write every finished game to DIR/<game_id>.mtrec (for mtown replay); empty: off"},
    ConfigKey{"debug.tick_delay_us", T::integer, "0", 0, 1000000, "",
              "TEST ONLY: every game step sleeps this long on its room's thread (a slowed server for the load-test gate)"},
    ConfigKey{"tls.cert_file", T::string, "", 0, 0, "",
              "PEM certificate chain; set with tls.key_file, the port serves only TLS (https, wss)"},
    ConfigKey{"tls.key_file", T::string, "", 0, 0, "", "PEM private key of tls.cert_file"},
};
}  // namespace

std::span<const ConfigKey> serve_config_keys() { return kKeys; }

const ConfigKey* find_config_key(std::string_view key) {
  for (const auto& k : kKeys)
    if (k.key == key) return &k;
  return nullptr;
}

std::string config_env_name(std::string_view key) {
  std::string out = "MTOWN_";
  for (char c : key) out += c == '.' ? '_' : static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
  return out;
}

}  // namespace mtown::core
