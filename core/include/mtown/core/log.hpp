// Structured logging: one JSON object per line on stderr, or readable text when stderr
// is a terminal. Thread-safe; each line is written with a single write().
#pragma once
#include <atomic>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace mtown::core {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3, off = 4 };
enum class LogFormat { automatic, json, text };

std::optional<LogLevel> parse_log_level(std::string_view s);
std::optional<LogFormat> parse_log_format(std::string_view s);

class Logger {
 public:
  static Logger& instance();

  void configure(LogLevel level, LogFormat format);
  bool enabled(LogLevel level) const { return level >= level_.load(std::memory_order_relaxed); }
  // `fields` must be a JSON object (or null); keys "room" and "player" are conventional.
  void write(LogLevel level, std::string_view event, const nlohmann::json& fields) const;

 private:
  std::atomic<LogLevel> level_{LogLevel::info};
  std::atomic<bool> json_{true};
};

inline void log(LogLevel level, std::string_view event, const nlohmann::json& fields = {}) {
  auto& logger = Logger::instance();
  if (logger.enabled(level)) logger.write(level, event, fields);
}
inline void log_debug(std::string_view e, const nlohmann::json& f = {}) { log(LogLevel::debug, e, f); }
inline void log_info(std::string_view e, const nlohmann::json& f = {}) { log(LogLevel::info, e, f); }
inline void log_warn(std::string_view e, const nlohmann::json& f = {}) { log(LogLevel::warn, e, f); }
inline void log_error(std::string_view e, const nlohmann::json& f = {}) { log(LogLevel::error, e, f); }

}  // namespace mtown::core
