#include "mtown/core/log.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>

namespace mtown::core {
namespace {

constexpr std::string_view kLevelNames[] = {"debug", "info", "warn", "error", "off"};

std::string utc_timestamp() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  const std::time_t t = system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms));
  return buf;
}

void write_all(const std::string& line) {
  std::size_t off = 0;
  while (off < line.size()) {
    const auto n = ::write(STDERR_FILENO, line.data() + off, line.size() - off);
    if (n <= 0) return;  // stderr gone: nothing sensible left to do
    off += static_cast<std::size_t>(n);
  }
}

}  // namespace

std::optional<LogLevel> parse_log_level(std::string_view s) {
  for (int i = 0; i <= 4; ++i)
    if (kLevelNames[i] == s) return static_cast<LogLevel>(i);
  return std::nullopt;
}

std::optional<LogFormat> parse_log_format(std::string_view s) {
  if (s == "auto") return LogFormat::automatic;
  if (s == "json") return LogFormat::json;
  if (s == "text") return LogFormat::text;
  return std::nullopt;
}

Logger& Logger::instance() {
  static Logger logger;
  return logger;
}

void Logger::configure(LogLevel level, LogFormat format) {
  level_ = level;
  json_ = format == LogFormat::json || (format == LogFormat::automatic && !::isatty(STDERR_FILENO));
}

void Logger::write(LogLevel level, std::string_view event, const nlohmann::json& fields) const {
  const auto level_name = kLevelNames[static_cast<int>(level)];
  std::string line;
  if (json_) {
    nlohmann::ordered_json j;
    j["ts"] = utc_timestamp();
    j["level"] = level_name;
    j["event"] = event;
    if (fields.is_object())
      for (const auto& [k, v] : fields.items()) j[k] = v;
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = utc_timestamp() + " " + std::string(level_name) + " " + std::string(event);
    if (fields.is_object())
      for (const auto& [k, v] : fields.items())
        line += " " + k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
  }
  line += '\n';
  write_all(line);
}

}  // namespace mtown::core
