// The keys `mtown serve` understands: name, type, range, default and help. This table is
// the single source for YAML validation, MTOWN_* variables, --set and --print-config.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace mtown::core {

enum class ConfigType { string, integer, boolean };

struct ConfigKey {
  std::string_view key;  // dotted path, e.g. "server.port"
  ConfigType type;
  std::string_view default_value;
  std::int64_t min = 0;  // integers only
  std::int64_t max = 0;
  std::string_view choices;  // strings only: "a|b|c", empty for free text
  std::string_view help;
  bool secret = false;  // --print-config shows "***" instead of the value
};

std::span<const ConfigKey> serve_config_keys();
const ConfigKey* find_config_key(std::string_view key);

// "server.port" -> "MTOWN_SERVER_PORT".
std::string config_env_name(std::string_view key);

}  // namespace mtown::core
