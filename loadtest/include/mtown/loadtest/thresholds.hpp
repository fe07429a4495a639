// k6-like pass/fail thresholds: `p95<50ms`, `p99<100ms`, `errors<0.1%`, `state_rate>55/s`.
// parse_threshold checks the text (a bad one is a usage error before anything runs);
// evaluate compares it with the run's figures and says by how much it missed.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mtown::loadtest {

enum class Unit { ms, percent, per_s, count, bytes };

struct MetricInfo {
  const char* name;
  Unit unit;
  const char* scenario;  // the scenario that measures it ("" = any)
  const char* meaning;
};
// Every metric a threshold may name, in the order the docs list them.
const std::vector<MetricInfo>& threshold_metrics();

struct Threshold {
  std::string text;    // as given
  std::string metric;  // "p95", "errors", ...
  bool less = true;    // `<` (true) or `>` (false); `<=`/`>=` are accepted as the same
  bool or_equal = false;
  double limit = 0;    // in the metric's base unit: ms, percent, per second, count, bytes
  Unit unit = Unit::ms;
};

// Throws std::invalid_argument with a message naming what is wrong.
Threshold parse_threshold(const std::string& text);

struct Verdict {
  Threshold threshold;
  std::optional<double> actual;  // nullopt: the run did not measure it (a miss)
  bool passed = false;
  std::string detail;  // "p95 = 73.2 ms, limit < 50 ms: over by 23.2 ms (46.4 %)"
};

// `figures` maps metric names to their values in base units; a missing one fails.
Verdict evaluate(const Threshold& t, const std::map<std::string, double>& figures);

std::string format_value(double v, Unit unit);

}  // namespace mtown::loadtest
