// What one `mtown loadtest` run does: target, bots and their scenarios, pacing, reports.
// parse_* helpers turn flag text into these fields and throw std::invalid_argument with a
// message for the user (a usage error, exit 2).
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "mtown/loadtest/thresholds.hpp"

namespace mtown::loadtest {

enum class Encoding { json, msgpack };

// A scenario's name and its share of the bots. A new scenario adds a name here and a Bot
// subclass (loadtest/src/scenarios.hpp); its figures go in stats.hpp and report.cpp.
enum class Scenario { arena, party, idle, churn };
const char* scenario_name(Scenario s);

struct MixEntry {
  Scenario scenario;
  int percent;
};

struct Options {
  // Target: ws://HOST:PORT/PATH, or empty with spawn.
  std::string url;
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string path = "/ws";
  bool spawn = false;
  std::string mtown_binary;                 // what --spawn runs (this executable)
  std::vector<std::string> spawn_sets;      // key=value, passed as `--set` to the child
  int spawn_threads = 0;                    // the child's server.threads (0: its default)

  std::vector<MixEntry> mix{{Scenario::arena, 100}};
  int bots = 100;
  double ramp_per_s = 0;  // connections started per second; 0: all at once (bounded per thread)
  double duration_s = 30;
  double drain_s = 1;     // after the window, for acks of inputs scheduled near its end
  std::uint64_t seed = 1;
  int threads = 0;        // 0: hardware threads
  bool io_uring = true;   // bots read through io_uring where the kernel allows (--io-uring auto|off)
  Encoding encoding = Encoding::json;
  std::vector<std::string> source_ips;  // bind each bot to one, round robin; empty: the kernel picks

  int room_size = 8;
  double input_hz = 20;
  double heartbeat_s = 5;     // idle bots: one ping per period
  double think_ms = 150;      // party bots: mean delay before an answer or vote
  // churn bots: connection drops per second, per bot. The default (one per 20 s) stays
  // under a server's default limits.reconnects_per_min (5).
  double churn_rate = 0.05;

  std::vector<Threshold> thresholds;
  std::string report_path;    // JSON
  std::string html_path;
  int progress_s = 0;         // 0: 1 s on a terminal, 5 s otherwise
  bool quiet = false;
  int server_pid = 0;         // measure this process's CPU during the window (set by --spawn)
};

// "ws://127.0.0.1:8080/ws" -> host, port, path.
void parse_url(const std::string& url, Options& o);
// "arena=70,party=30" (percentages summing to 100).
std::vector<MixEntry> parse_mix(const std::string& text);
Scenario parse_scenario(const std::string& name);
// "200/s" (a rate) or "10s" (a duration over which all bots start): connections per second.
double parse_ramp(const std::string& text, int bots);
// "127.0.0.1-127.0.0.8" or "127.0.0.1,127.0.0.2" -> each address.
std::vector<std::string> parse_source_ips(const std::string& text);
// Checks the whole set (ranges, room sizes, thresholds vs scenarios); throws on a bad one.
void validate(const Options& o);

}  // namespace mtown::loadtest
