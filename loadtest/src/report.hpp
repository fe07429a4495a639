// The run's figures as one JSON document (the --report file, and the source of the text
// summary, the HTML page and the threshold figures).
#pragma once
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtown/loadtest/options.hpp"
#include "stats.hpp"

namespace mtown::loadtest {

struct TimelinePoint {
  double t_s;  // seconds since the ramp began
  int connected;
  double msgs_in_per_s, msgs_out_per_s, bytes_in_per_s, bytes_out_per_s;
  double p50_ms, p95_ms, p99_ms;
  std::uint64_t errors, samples;
  bool in_window;
};

struct RunData {
  const Options* options = nullptr;
  std::string started_at;  // UTC
  std::string target;      // ws://host:port/path
  std::string server_version;
  std::map<Scenario, int> planned;  // bots per scenario
  int bots_started = 0, connected_at_window = 0;
  double ramp_s = 0, window_s = 0;
  Stats stats;
  std::vector<TimelinePoint> timeline;
  std::map<std::string, double> server_before, server_at_window, server_after;
  std::string metrics_error;
  std::vector<double> thread_cpu_share;  // per generator thread, over the window
  std::string reads;  // how the bots read: "io_uring" or "epoll" (recv_ring.hpp)
  double process_cpu_s = 0;
  double server_cpu_share = -1;  // of one core, when the server's PID is known
  std::vector<std::string> warnings;
};

nlohmann::json build_report(const RunData& run);
// Metric name -> value in base units (ms, %, /s, count, bytes), for the thresholds.
std::map<std::string, double> threshold_figures(const nlohmann::json& report);
std::string summary_text(const nlohmann::json& report);
std::string render_html(const nlohmann::json& report);

}  // namespace mtown::loadtest
