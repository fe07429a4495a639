// Layered configuration: built-in defaults < mtown.yaml < MTOWN_* environment < flags.
// Every value is checked against config_schema; a bad one throws ConfigError naming it.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace mtown::core {

class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string key, const std::string& message)
      : std::runtime_error(key.empty() ? message : key + ": " + message), key_(std::move(key)) {}
  const std::string& key() const { return key_; }

 private:
  std::string key_;
};

using EnvLookup = std::function<const char*(const char*)>;
using ConfigOverrides = std::vector<std::pair<std::string, std::string>>;  // key, value

class Config {
 public:
  // yaml_path empty: no file. Throws ConfigError on an unknown key or a bad value.
  static Config load(const std::string& yaml_path, const EnvLookup& env,
                     const ConfigOverrides& overrides);
  static Config defaults();

  const std::string& str(const std::string& key) const;
  std::int64_t integer(const std::string& key) const;
  bool boolean(const std::string& key) const;
  const std::string& source(const std::string& key) const;

  // The effective configuration as YAML, each value commented with where it came from.
  std::string to_yaml() const;

 private:
  struct Value {
    std::string text;
    std::string source;  // "default", "file", "env MTOWN_X", "flag"
  };
  void set(const std::string& key, const std::string& text, const std::string& source);
  void load_yaml_file(const std::string& path);
  const Value& at(const std::string& key) const;

  std::map<std::string, Value> values_;
};

// The settings `mtown serve` runs with, typed.
struct ServeConfig {
  std::string host;
  std::uint16_t port = 8080;
  int threads = 0;
  int shutdown_timeout_ms = 5000;
  bool io_uring = true;  // server.io_uring: auto (server/send_batch.hpp)
  std::string log_level;
  std::string log_format;
  int max_rooms = 10000;
  int room_empty_grace_s = 30;
  int room_ttl_s = 14400;
  int tick_lanes = 8;  // core/tick_lanes.hpp
  std::size_t resume_buffer_messages = 100;
  int resume_buffer_ms = 5000;
  int seat_grace_s = 300;
  int heartbeat_interval_ms = 30000;
  int heartbeat_timeout_ms = 60000;
  int max_connections = 10000;
  std::size_t max_frame_bytes = 65536;
  std::size_t write_queue_max_bytes = 1 << 20;
  int chat_max_chars = 200;
  // Limits and abuse (docs/security.md).
  int max_connections_per_ip = 64;
  int handshake_timeout_ms = 10000;
  int messages_per_s = 100;
  int input_per_s = 60;
  int input_burst = 30;
  int chat_per_min = 10;
  int rooms_per_min = 5;
  int joins_per_min = 20;
  int join_misses_per_min = 30;
  int reconnects_per_min = 5;
  int guest_tokens_per_min = 10;
  int abuse_strikes = 20;
  std::string allowed_origins;  // comma-separated; empty: any
  // Auth; core::resolve_auth() turns auth_mode "auto" and --dev into auth_required.
  std::string auth_mode = "auto";
  bool dev = false;  // --dev
  bool auth_required = false;
  std::string jwt_secret;
  std::string jwt_issuer = "mtown";
  std::string jwt_audience = "mtown";
  int jwt_leeway_s = 30;
  bool guest_enabled = true;
  int guest_ttl_s = 3600;
  std::string party_questions_file;
  std::string database_url;
  bool recording_enabled = true;
  int recording_batch_max_rows = 500;
  int recording_batch_max_ms = 200;
  int recording_queue_max_records = 100000;
  int recording_retry_max_backoff_ms = 5000;
  int recording_hash_every_ticks = 60;
  std::string redis_url;
  std::string redis_node_id;
  int redis_key_ttl_s = 60;
  int redis_breaker_threshold = 5;
  int redis_breaker_reset_ms = 30000;
  int redis_timeout_ms = 2000;
  std::string mtrec_dir;
  int debug_tick_delay_us = 0;  // test only: a deliberately slow game step
  std::string tls_cert_file;  // both empty: plain TCP
  std::string tls_key_file;

  static ServeConfig from(const Config& c);
};

}  // namespace mtown::core
