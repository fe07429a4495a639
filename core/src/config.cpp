#include "mtown/core/config.hpp"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <filesystem>
#include <functional>
#include <optional>

#include "mtown/core/config_schema.hpp"

namespace mtown::core {
namespace {

std::optional<std::int64_t> parse_int(const std::string& s) {
  std::int64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<bool> parse_bool(const std::string& s) {
  if (s == "true" || s == "yes" || s == "on" || s == "1") return true;
  if (s == "false" || s == "no" || s == "off" || s == "0") return false;
  return std::nullopt;
}

std::string type_name(ConfigType t) {
  switch (t) {
    case ConfigType::string: return "a string";
    case ConfigType::integer: return "an integer";
    case ConfigType::boolean: return "a boolean";
  }
  return "?";
}

bool is_section(const std::string& name) {
  for (const auto& k : serve_config_keys())
    if (k.key.starts_with(name + ".")) return true;
  return false;
}

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

Config Config::defaults() {
  Config c;
  for (const auto& k : serve_config_keys())
    c.values_[std::string(k.key)] = {std::string(k.default_value), "default"};
  return c;
}

Config Config::load(const std::string& yaml_path, const EnvLookup& env,
                    const ConfigOverrides& overrides) {
  Config c = defaults();
  if (!yaml_path.empty()) c.load_yaml_file(yaml_path);
  for (const auto& k : serve_config_keys()) {
    const std::string name = config_env_name(k.key);
    if (const char* v = env(name.c_str())) c.set(std::string(k.key), v, "env " + name);
  }
  for (const auto& [key, value] : overrides) c.set(key, value, "flag");
  return c;
}

void Config::set(const std::string& key, const std::string& text, const std::string& source) {
  const ConfigKey* k = find_config_key(key);
  if (!k) throw ConfigError(key, "unknown key (from " + source + "); see examples/mtown.yaml");
  const auto bad = [&](const std::string& why) {
    throw ConfigError(key, "invalid value \"" + text + "\" from " + source + ": " + why);
  };
  if (k->type == ConfigType::integer) {
    const auto v = parse_int(text);
    if (!v) bad("expected " + type_name(k->type));
    if (*v < k->min || *v > k->max)
      bad("out of range " + std::to_string(k->min) + ".." + std::to_string(k->max));
  } else if (k->type == ConfigType::boolean) {
    if (!parse_bool(text)) bad("expected true or false");
  } else if (!k->choices.empty()) {
    std::string_view choices = k->choices;
    bool found = false;
    while (!found && !choices.empty()) {
      const auto bar = choices.find('|');
      found = choices.substr(0, bar) == text;
      choices = bar == std::string_view::npos ? "" : choices.substr(bar + 1);
    }
    if (!found) bad("expected one of " + std::string(k->choices));
  }
  values_[key] = {text, source};
}

void Config::load_yaml_file(const std::string& path) {
  if (!std::filesystem::exists(path)) throw ConfigError("", "config file not found: " + path);
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    throw ConfigError("", "cannot parse " + path + ": " + e.what());
  }
  if (root.IsNull()) return;  // an empty file is a valid, empty config
  if (!root.IsMap()) throw ConfigError("", path + ": the top level must be a mapping");
  const std::string source = "file " + path;
  // Walk nested maps into dotted keys; a scalar anywhere a section is expected is an error.
  std::function<void(const YAML::Node&, const std::string&)> walk = [&](const YAML::Node& node,
                                                                       const std::string& prefix) {
    for (const auto& item : node) {
      const std::string key = prefix + item.first.as<std::string>();
      const YAML::Node& v = item.second;
      if (v.IsMap()) {
        walk(v, key + ".");
      } else if (v.IsScalar()) {
        set(key, v.Scalar(), source);
      } else if (v.IsNull() && is_section(key)) {
        continue;  // a section whose keys are all commented out
      } else if (v.IsNull()) {
        set(key, "", source);
      } else {
        if (!find_config_key(key)) throw ConfigError(key, "unknown key (from " + source + ")");
        throw ConfigError(key, "expected a single value, not a list (from " + source + ")");
      }
    }
  };
  walk(root, "");
}

const Config::Value& Config::at(const std::string& key) const {
  const auto it = values_.find(key);
  if (it == values_.end()) throw ConfigError(key, "no such key");
  return it->second;
}

const std::string& Config::str(const std::string& key) const { return at(key).text; }
std::int64_t Config::integer(const std::string& key) const { return *parse_int(at(key).text); }
bool Config::boolean(const std::string& key) const { return *parse_bool(at(key).text); }
const std::string& Config::source(const std::string& key) const { return at(key).source; }

std::string Config::to_yaml() const {
  std::string out, section;
  for (const auto& k : serve_config_keys()) {
    const std::string key(k.key);
    const auto dot = key.find('.');
    if (key.substr(0, dot) != section) {
      section = key.substr(0, dot);
      out += section + ":\n";
    }
    const Value& v = at(key);
    const std::string shown = k.secret && !v.text.empty() ? "***" : v.text;
    const std::string text = k.type == ConfigType::string ? quoted(shown) : shown;
    out += "  " + key.substr(dot + 1) + ": " + text + "  # " + v.source + "\n";
  }
  return out;
}

ServeConfig ServeConfig::from(const Config& c) {
  ServeConfig s;
  s.host = c.str("server.host");
  s.port = static_cast<std::uint16_t>(c.integer("server.port"));
  s.threads = static_cast<int>(c.integer("server.threads"));
  s.shutdown_timeout_ms = static_cast<int>(c.integer("server.shutdown_timeout_ms"));
  s.io_uring = c.str("server.io_uring") == "auto";
  s.log_level = c.str("log.level");
  s.log_format = c.str("log.format");
  s.max_rooms = static_cast<int>(c.integer("rooms.max_rooms"));
  s.tick_lanes = static_cast<int>(c.integer("rooms.tick_lanes"));
  s.room_empty_grace_s = static_cast<int>(c.integer("rooms.empty_grace_s"));
  s.room_ttl_s = static_cast<int>(c.integer("rooms.ttl_s"));
  s.resume_buffer_messages = static_cast<std::size_t>(c.integer("session.resume_buffer_messages"));
  s.resume_buffer_ms = static_cast<int>(c.integer("session.resume_buffer_ms"));
  s.seat_grace_s = static_cast<int>(c.integer("session.seat_grace_s"));
  s.heartbeat_interval_ms = static_cast<int>(c.integer("session.heartbeat_interval_ms"));
  s.heartbeat_timeout_ms = static_cast<int>(c.integer("session.heartbeat_timeout_ms"));
  if (s.heartbeat_timeout_ms <= s.heartbeat_interval_ms)
    throw ConfigError("session.heartbeat_timeout_ms", "must be longer than session.heartbeat_interval_ms (" +
                                                          std::to_string(s.heartbeat_interval_ms) + ")");
  s.max_connections = static_cast<int>(c.integer("limits.max_connections"));
  s.max_frame_bytes = static_cast<std::size_t>(c.integer("limits.max_frame_bytes"));
  s.write_queue_max_bytes = static_cast<std::size_t>(c.integer("limits.write_queue_max_bytes"));
  s.chat_max_chars = static_cast<int>(c.integer("limits.chat_max_chars"));
  s.max_connections_per_ip = static_cast<int>(c.integer("limits.max_connections_per_ip"));
  s.handshake_timeout_ms = static_cast<int>(c.integer("limits.handshake_timeout_ms"));
  s.messages_per_s = static_cast<int>(c.integer("limits.messages_per_s"));
  s.input_per_s = static_cast<int>(c.integer("limits.input_per_s"));
  s.input_burst = static_cast<int>(c.integer("limits.input_burst"));
  s.chat_per_min = static_cast<int>(c.integer("limits.chat_per_min"));
  s.rooms_per_min = static_cast<int>(c.integer("limits.rooms_per_min"));
  s.joins_per_min = static_cast<int>(c.integer("limits.joins_per_min"));
  s.join_misses_per_min = static_cast<int>(c.integer("limits.join_misses_per_min"));
  s.reconnects_per_min = static_cast<int>(c.integer("limits.reconnects_per_min"));
  s.guest_tokens_per_min = static_cast<int>(c.integer("limits.guest_tokens_per_min"));
  s.abuse_strikes = static_cast<int>(c.integer("limits.abuse_strikes"));
  s.allowed_origins = c.str("limits.allowed_origins");
  s.auth_mode = c.str("auth.mode");
  s.jwt_secret = c.str("auth.jwt_secret");
  s.jwt_issuer = c.str("auth.issuer");
  s.jwt_audience = c.str("auth.audience");
  s.jwt_leeway_s = static_cast<int>(c.integer("auth.leeway_s"));
  s.guest_enabled = c.boolean("auth.guest_enabled");
  s.guest_ttl_s = static_cast<int>(c.integer("auth.guest_ttl_s"));
  s.party_questions_file = c.str("games.party_questions");
  s.database_url = c.str("database.url");
  s.recording_enabled = c.boolean("recording.enabled");
  s.recording_batch_max_rows = static_cast<int>(c.integer("recording.batch_max_rows"));
  s.recording_batch_max_ms = static_cast<int>(c.integer("recording.batch_max_ms"));
  s.recording_queue_max_records = static_cast<int>(c.integer("recording.queue_max_records"));
  s.recording_retry_max_backoff_ms = static_cast<int>(c.integer("recording.retry_max_backoff_ms"));
  s.recording_hash_every_ticks = static_cast<int>(c.integer("recording.hash_every_ticks"));
  s.redis_url = c.str("redis.url");
  s.redis_node_id = c.str("redis.node_id");
  s.redis_key_ttl_s = static_cast<int>(c.integer("redis.key_ttl_s"));
  s.redis_breaker_threshold = static_cast<int>(c.integer("redis.breaker_threshold"));
  s.redis_breaker_reset_ms = static_cast<int>(c.integer("redis.breaker_reset_ms"));
  s.redis_timeout_ms = static_cast<int>(c.integer("redis.timeout_ms"));
  s.mtrec_dir = c.str("recording.mtrec_dir");
  s.debug_tick_delay_us = static_cast<int>(c.integer("debug.tick_delay_us"));
  s.tls_cert_file = c.str("tls.cert_file");
  s.tls_key_file = c.str("tls.key_file");
  if (s.tls_cert_file.empty() != s.tls_key_file.empty())
    throw ConfigError(s.tls_cert_file.empty() ? "tls.cert_file" : "tls.key_file",
                      "tls.cert_file and tls.key_file are set together or not at all");
  return s;
}

}  // namespace mtown::core
