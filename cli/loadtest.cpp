// `mtown loadtest`: flags -> loadtest::Options -> run_loadtest() -> exit code.
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <thread>

#include "commands.hpp"
#include "mtown/loadtest/run.hpp"

namespace mtown::cli {
namespace {

struct LoadtestFlags {
  loadtest::Options o;
  std::string url, scenario, mix, ramp, source_ips, encoding = "json", io_uring = "auto";
  std::vector<std::string> thresholds;
};

std::string self_path() {
  char buf[4096];
  const auto n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "mtown";
}

int run(LoadtestFlags& f) {
  auto& o = f.o;
  try {
    if (!f.url.empty()) loadtest::parse_url(f.url, o);
    if (!f.scenario.empty() && !f.mix.empty()) throw std::invalid_argument("give --scenario or --mix, not both");
    if (!f.scenario.empty()) o.mix = {{loadtest::parse_scenario(f.scenario), 100}};
    if (!f.mix.empty()) o.mix = loadtest::parse_mix(f.mix);
    if (!f.ramp.empty()) o.ramp_per_s = loadtest::parse_ramp(f.ramp, o.bots);
    if (!f.source_ips.empty()) o.source_ips = loadtest::parse_source_ips(f.source_ips);
    if (f.encoding == "msgpack") o.encoding = loadtest::Encoding::msgpack;
    else if (f.encoding != "json") throw std::invalid_argument("--encoding must be json or msgpack");
    if (f.io_uring != "auto" && f.io_uring != "off") throw std::invalid_argument("--io-uring must be auto or off");
    o.io_uring = f.io_uring == "auto";
    for (const auto& t : f.thresholds) o.thresholds.push_back(loadtest::parse_threshold(t));
    o.mtown_binary = self_path();
    loadtest::validate(o);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "mtown loadtest: %s\n", e.what());
    return kExitUsage;
  }
  return loadtest::run_loadtest(o);
}

}  // namespace

Command add_loadtest(CLI::App& app) {
  auto f = std::make_shared<LoadtestFlags>();
  auto& o = f->o;
  app.add_option("--url", f->url, "server to load: ws://HOST:PORT/ws");
  app.add_flag("--spawn", o.spawn, "start `mtown serve` as a child on a free port for this run, and stop it after");
  app.add_option("--spawn-set", o.spawn_sets, "with --spawn: a config key for the child, key=value (repeatable)");
  app.add_option("--spawn-threads", o.spawn_threads, "with --spawn: the child's io threads (default: its own)");
  app.add_option("--scenario", f->scenario, "arena | party | idle | churn (default arena)");
  app.add_option("--mix", f->mix, "scenarios by share of the bots: arena=70,party=30");
  app.add_option("--bots", o.bots, "bots (connections) in all")->capture_default_str();
  app.add_option("--ramp", f->ramp, "connect rate (200/s) or time to connect every bot (10s); default 1000/s");
  app.add_option("--duration", o.duration_s, "seconds measured after the ramp")->capture_default_str();
  app.add_option("--seed", o.seed, "same seed, same bot behaviour")->capture_default_str();
  app.add_option("--threads", o.threads, "generator threads (default: cores)");
  app.add_option("--encoding", f->encoding, "json | msgpack")->capture_default_str();
  app.add_option("--io-uring", f->io_uring, "auto: bots read through io_uring where the kernel allows; off: epoll")
      ->capture_default_str();
  app.add_option("--source-ips", f->source_ips, "bind bots to these addresses in turn: 127.0.0.1-127.0.0.8");
  app.add_option("--room-size", o.room_size, "bots per arena or party room (2-8)")->capture_default_str();
  app.add_option("--input-hz", o.input_hz, "arena inputs per second per bot")->capture_default_str();
  app.add_option("--heartbeat", o.heartbeat_s, "idle bots: seconds between pings")->capture_default_str();
  app.add_option("--think-ms", o.think_ms, "party bots: mean think time before acting")->capture_default_str();
  app.add_option("--churn-rate", o.churn_rate, "churn bots: connection drops (then resumes) per second per bot")
      ->capture_default_str();
  app.add_option("--drain", o.drain_s, "seconds after the window for late acks")->capture_default_str();
  app.add_option("--threshold", f->thresholds, "pass/fail rule, repeatable: p95<50ms, errors<0.1%, state_rate>55/s");
  app.add_option("--report", o.report_path, "write every figure as JSON to this file");
  app.add_option("--html", o.html_path, "write a self-contained HTML report with SVG charts to this file");
  app.add_option("--progress", o.progress_s, "seconds between progress lines (default 1 on a terminal, else 5)");
  app.add_flag("-q,--quiet", o.quiet, "no progress lines");
  app.add_option("--server-pid", o.server_pid, "a local server's PID: report its CPU share over the window");
  o.ramp_per_s = 1000;
  app.footer(
      "Exit codes: 0 every threshold met, 1 the generator failed, 2 usage error, 3 could not connect\n"
      "(or --spawn failed), 4 a threshold was missed. Thresholds: p50 p90 p95 p99 p999 max (latency),\n"
      "errors (%), error_count, state_rate, state_rate_p5, jitter_p99, unacked, games_completed,\n"
      "phase_result_p95, connected, memory_per_conn, msg_rate, resume_p50, resume_p95, resume_p99, resumes,\n"
      "resumes_failed, snapshot_fallbacks, missed, duplicated. See docs/loadtest.md.");
  return [f] { return run(*f); };
}

}  // namespace mtown::cli
