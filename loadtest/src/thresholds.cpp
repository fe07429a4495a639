#include "mtown/loadtest/thresholds.hpp"

#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace mtown::loadtest {

const std::vector<MetricInfo>& threshold_metrics() {
  static const std::vector<MetricInfo> metrics{
      {"p50", Unit::ms, "", "input-to-acknowledged latency (arena) or ping round trip (idle), 50th percentile"},
      {"p90", Unit::ms, "", "the same, 90th percentile"},
      {"p95", Unit::ms, "", "the same, 95th percentile"},
      {"p99", Unit::ms, "", "the same, 99th percentile"},
      {"p999", Unit::ms, "", "the same, 99.9th percentile"},
      {"max", Unit::ms, "", "the same, largest sample"},
      {"errors", Unit::percent, "", "failed operations / (messages sent + connection attempts)"},
      {"error_count", Unit::count, "", "failed operations"},
      {"state_rate", Unit::per_s, "arena", "state messages per second per arena bot (average)"},
      {"state_rate_p5", Unit::per_s, "arena", "state messages per second of the 5th-percentile arena bot"},
      {"jitter_p99", Unit::ms, "arena", "|spacing of state messages - tick period|, 99th percentile"},
      {"unacked", Unit::count, "arena", "inputs never acknowledged before the run ended"},
      {"games_completed", Unit::count, "party", "party games played to game_over"},
      {"phase_result_p95", Unit::ms, "party", "last vote of a phase to the phase's result, 95th percentile"},
      {"connected", Unit::count, "", "bots connected at the end of the ramp"},
      {"memory_per_conn", Unit::bytes, "idle", "server resident memory per idle connection (from /metrics)"},
      {"msg_rate", Unit::per_s, "", "messages received per second, all bots"},
      {"resume_p50", Unit::ms, "churn", "connection dropped -> `resumed` received, 50th percentile"},
      {"resume_p95", Unit::ms, "churn", "the same, 95th percentile"},
      {"resume_p99", Unit::ms, "churn", "the same, 99th percentile"},
      {"resumes", Unit::count, "churn", "sessions resumed after a drop"},
      {"resumes_failed", Unit::count, "churn", "resumes refused, failed to connect, or still pending at the end"},
      {"snapshot_fallbacks", Unit::count, "churn", "resumes answered with a snapshot instead of a replay"},
      {"missed", Unit::count, "", "server messages never received (gaps in seq), all bots"},
      {"duplicated", Unit::count, "", "server messages received twice (a seq not above the last), all bots"},
  };
  return metrics;
}

namespace {

const MetricInfo* find_metric(const std::string& name) {
  for (const auto& m : threshold_metrics())
    if (name == m.name) return &m;
  return nullptr;
}

// Scales `value` given with `suffix` to the metric's base unit; throws on a wrong unit.
double to_base(double value, const std::string& suffix, Unit unit, const std::string& text) {
  switch (unit) {
    case Unit::ms:
      if (suffix == "ms") return value;
      if (suffix == "us" || suffix == "µs") return value / 1000.0;
      if (suffix == "s") return value * 1000.0;
      if (suffix.empty()) throw std::invalid_argument("threshold \"" + text + "\": give a unit (ms, us or s)");
      break;
    case Unit::percent:
      if (suffix == "%") return value;
      if (suffix.empty()) return value * 100.0;  // a plain fraction: errors<0.001
      break;
    case Unit::per_s:
      if (suffix == "/s" || suffix.empty()) return value;
      if (suffix == "/min") return value / 60.0;
      break;
    case Unit::count:
      if (suffix.empty()) return value;
      break;
    case Unit::bytes:
      if (suffix.empty() || suffix == "B") return value;
      if (suffix == "kB" || suffix == "KB") return value * 1000.0;
      if (suffix == "KiB") return value * 1024.0;
      if (suffix == "MB") return value * 1e6;
      if (suffix == "MiB") return value * 1048576.0;
      break;
  }
  throw std::invalid_argument("threshold \"" + text + "\": unit \"" + suffix + "\" does not fit");
}

}  // namespace

Threshold parse_threshold(const std::string& text) {
  Threshold t;
  t.text = text;
  const auto op = text.find_first_of("<>");
  if (op == std::string::npos || op == 0)
    throw std::invalid_argument("threshold \"" + text + "\": expected METRIC<VALUE or METRIC>VALUE, e.g. p95<50ms");
  t.metric = text.substr(0, op);
  while (!t.metric.empty() && t.metric.back() == ' ') t.metric.pop_back();
  const auto* info = find_metric(t.metric);
  if (!info) {
    std::string names;
    for (const auto& m : threshold_metrics()) names += std::string(names.empty() ? "" : ", ") + m.name;
    throw std::invalid_argument("threshold \"" + text + "\": unknown metric \"" + t.metric + "\" (known: " + names + ")");
  }
  t.unit = info->unit;
  t.less = text[op] == '<';
  std::size_t at = op + 1;
  if (at < text.size() && text[at] == '=') t.or_equal = true, ++at;
  while (at < text.size() && text[at] == ' ') ++at;
  const std::string rest = text.substr(at);
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(rest, &used);
  } catch (const std::exception&) {
    throw std::invalid_argument("threshold \"" + text + "\": expected a number after the comparison");
  }
  if (!std::isfinite(value) || value < 0) throw std::invalid_argument("threshold \"" + text + "\": the limit must be >= 0");
  std::string suffix = rest.substr(used);
  while (!suffix.empty() && suffix.front() == ' ') suffix.erase(0, 1);
  t.limit = to_base(value, suffix, t.unit, text);
  return t;
}

std::string format_value(double v, Unit unit) {
  char buf[64];
  switch (unit) {
    case Unit::ms: std::snprintf(buf, sizeof buf, "%.3g ms", v); break;
    case Unit::percent: std::snprintf(buf, sizeof buf, "%.4g %%", v); break;
    case Unit::per_s: std::snprintf(buf, sizeof buf, "%.4g/s", v); break;
    case Unit::count: std::snprintf(buf, sizeof buf, "%.0f", v); break;
    case Unit::bytes: std::snprintf(buf, sizeof buf, "%.0f B", v); break;
  }
  return buf;
}

Verdict evaluate(const Threshold& t, const std::map<std::string, double>& figures) {
  Verdict v{t, std::nullopt, false, {}};
  const auto it = figures.find(t.metric);
  const std::string limit = std::string(t.less ? "<" : ">") + (t.or_equal ? "=" : "") + " " + format_value(t.limit, t.unit);
  if (it == figures.end()) {
    v.detail = t.metric + " was not measured in this run (limit " + limit + ")";
    return v;
  }
  v.actual = it->second;
  const double a = it->second;
  v.passed = t.less ? (t.or_equal ? a <= t.limit : a < t.limit) : (t.or_equal ? a >= t.limit : a > t.limit);
  v.detail = t.metric + " = " + format_value(a, t.unit) + ", limit " + limit;
  if (!v.passed) {
    const double by = std::abs(a - t.limit);
    char pct[48] = "";
    if (t.limit > 0) std::snprintf(pct, sizeof pct, " (%.1f %%)", by * 100.0 / t.limit);
    v.detail += std::string(": ") + (t.less ? "over" : "under") + " by " + format_value(by, t.unit) + pct;
  }
  return v;
}

}  // namespace mtown::loadtest
