// run_loadtest: plans the bots over the worker threads, spawns the server if asked,
// ramps, measures the window while printing progress, cross-checks /metrics, and
// judges the thresholds. The main thread only coordinates; bots run on the workers.
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <thread>

#include "mtown/loadtest/run.hpp"
#include "planner.hpp"
#include "progress.hpp"
#include "report.hpp"
#include "server_probe.hpp"
#include "worker.hpp"

namespace mtown::loadtest {
namespace {

using std::chrono::duration;
using std::chrono::milliseconds;

std::string utc_now() {
  char buf[32];
  const std::time_t t = std::time(nullptr);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

double thread_cpu_s(std::thread& t) {
  clockid_t cid;
  timespec ts{};
  if (pthread_getcpuclockid(t.native_handle(), &cid) != 0 || clock_gettime(cid, &ts) != 0) return 0;
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double process_cpu_s() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

void raise_fd_limit(int bots) {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < static_cast<rlim_t>(bots) + 64)
    std::fprintf(stderr, "mtown loadtest: warning: the open-file limit (%llu) is below --bots; raise `ulimit -n`\n",
                 static_cast<unsigned long long>(rl.rlim_cur));
}

std::vector<std::string> spawn_args(const Options& o) {
  // A throwaway server: --dev (no JWT secret, anonymous bots), no database, and room for
  // every bot from the one loopback address.
  std::vector<std::string> args{"--dev", "--database", "none",
                                "--set", "limits.max_connections=" + std::to_string(o.bots + 100),
                                "--set", "limits.max_connections_per_ip=" + std::to_string(o.bots + 100)};
  if (o.spawn_threads > 0) args.insert(args.end(), {"--threads", std::to_string(o.spawn_threads)});
  // Churn resumes far more often than a player would (5 a minute by default).
  for (const auto& e : o.mix)
    if (e.scenario == Scenario::churn) args.insert(args.end(), {"--set", "limits.reconnects_per_min=100000"});
  for (const auto& s : o.spawn_sets) args.insert(args.end(), {"--set", s});
  return args;
}

// Everything the runner holds while bots run; stops the workers on every way out.
struct Fleet {
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::thread> threads;
  ~Fleet() { stop(); }
  void stop() {
    for (auto& w : workers) w->stop();
    for (auto& t : threads)
      if (t.joinable()) t.join();
  }
  int settled() const {
    int n = 0;
    for (const auto& w : workers) n += w->settled.load(std::memory_order_relaxed);
    return n;
  }
  int started() const {
    int n = 0;
    for (const auto& w : workers) n += w->started.load(std::memory_order_relaxed);
    return n;
  }
  // The interval counters of every worker since the last call, and open connections.
  Interval take_interval(int& connected) {
    Interval all;
    connected = 0;
    for (auto& w : workers) {
      auto slot = std::make_shared<std::pair<Interval, int>>();
      if (!w->call([slot](Worker& wk) {
            slot->first = std::move(wk.interval);
            wk.interval = Interval{};
            slot->second = wk.connected;
          }, milliseconds(10000)))
        continue;
      all.merge(slot->first);
      connected += slot->second;
    }
    return all;
  }
};

// After the bots stopped sending and left their rooms: waits (at most 10 s) until the
// server has read everything the bots sent and the bots have read everything the server
// queued, so the /metrics comparison is not skewed by messages in flight. With churn the
// server may have queued a replayed message twice (to the dropped connection too) and a
// message a snapshot resume skipped once: those count as read.
void settle(Fleet& fleet, const Options& o, const RunData& run) {
  if (run.server_before.empty()) return std::this_thread::sleep_for(milliseconds(300));
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  const auto delta = [&](const std::map<std::string, double>& m, const char* name) {
    const auto now = m.find(name), before = run.server_before.find(name);
    return (now == m.end() ? 0 : now->second) - (before == run.server_before.end() ? 0 : before->second);
  };
  while (Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(200));
    std::uint64_t sent = 0, received = 0;
    for (auto& w : fleet.workers) {
      auto c = std::make_shared<std::pair<std::uint64_t, std::uint64_t>>();
      w->call([c](Worker& wk) {
        const auto& s = wk.stats;
        *c = {s.msgs_out, s.msgs_in + s.replayed + s.snapshot_skipped};
      }, milliseconds(10000));
      sent += c->first, received += c->second;
    }
    const auto m = fetch_metrics(o.host, o.port, nullptr);
    if (!m) return;
    if (delta(*m, "mtown_messages_in_total") >= static_cast<double>(sent) &&
        static_cast<double>(received) >= delta(*m, "mtown_messages_out_total"))
      return;
  }
}

}  // namespace

int run_loadtest(Options o) {
  if (o.threads == 0) o.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  RunData run;
  run.options = &o;
  run.started_at = utc_now();
  std::unique_ptr<SpawnedServer> spawned;
  if (o.spawn) {
    try {
      spawned = std::make_unique<SpawnedServer>(o.mtown_binary, spawn_args(o));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "mtown loadtest: could not start the server: %s\n", e.what());
      return kExitCannotConnect;
    }
    o.host = "127.0.0.1";
    o.port = static_cast<std::uint16_t>(spawned->port());
    o.url = "ws://127.0.0.1:" + std::to_string(o.port) + o.path;
    o.server_pid = spawned->pid();
  }
  run.target = o.url;
  raise_fd_limit(o.bots);
  if (auto m = fetch_metrics(o.host, o.port, &run.metrics_error)) run.server_before = *m;

  Window window;
  Fleet fleet;
  const tcp::endpoint endpoint(net::ip::make_address(o.host), o.port);
  for (int t = 0; t < o.threads; ++t) fleet.workers.push_back(std::make_unique<Worker>(o, window, endpoint));
  const Plan plan = plan_bots(o);
  run.planned = plan.per_scenario;
  for (const auto& b : plan.bots) fleet.workers[static_cast<std::size_t>(b.worker)]->add(b.bot);
  const int total = static_cast<int>(plan.bots.size());

  Progress progress(o, total);
  const auto ramp_start = Clock::now();
  for (auto& w : fleet.workers) fleet.threads.emplace_back([wp = w.get(), ramp_start] { wp->run(ramp_start); });

  // The ramp: until every bot is playing (or failed), bounded by the planned ramp + 60 s.
  const double ramp_plan_s = o.ramp_per_s > 0 ? total / o.ramp_per_s : 0;
  const auto ramp_deadline = ramp_start + std::chrono::duration_cast<Clock::duration>(duration<double>(ramp_plan_s + 60));
  auto next_tick = ramp_start + std::chrono::seconds(1);
  while (fleet.settled() < total && Clock::now() < ramp_deadline) {
    std::this_thread::sleep_for(milliseconds(20));
    if (Clock::now() >= next_tick) {
      int connected = 0;
      const Interval iv = fleet.take_interval(connected);
      run.timeline.push_back(progress.tick(duration<double>(Clock::now() - ramp_start).count(), iv, connected, false));
      next_tick += std::chrono::seconds(1);
    }
  }
  int connected = 0;
  fleet.take_interval(connected);  // the ramp's tail: not part of the window
  run.bots_started = fleet.started();
  run.ramp_s = duration<double>(Clock::now() - ramp_start).count();
  if (connected == 0) {
    fleet.stop();
    Stats s;
    for (auto& w : fleet.workers) s.merge(w->stats);
    std::fprintf(stderr, "mtown loadtest: could not connect: %s\n",
                 s.first_connect_error.empty() ? "no bot reached the server" : s.first_connect_error.c_str());
    return kExitCannotConnect;
  }
  if (fleet.settled() < total)
    run.warnings.push_back(std::to_string(total - fleet.settled()) + " bots were not playing when the window began");
  run.connected_at_window = connected;
  run.reads = std::all_of(fleet.workers.begin(), fleet.workers.end(), [](const auto& w) { return w->reads_through_ring.load(); })
                  ? "io_uring"
                  : "epoll";
  if (auto m = fetch_metrics(o.host, o.port, &run.metrics_error)) run.server_at_window = *m;

  // The window.
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(duration<double>(o.duration_s));
  window.end.store(end.time_since_epoch().count());
  window.start.store(start.time_since_epoch().count());
  std::vector<double> cpu0;
  for (auto& t : fleet.threads) cpu0.push_back(thread_cpu_s(t));
  const double proc0 = process_cpu_s();
  const double server0 = o.server_pid > 0 ? process_cpu_seconds(o.server_pid) : -1;
  next_tick = start + std::chrono::seconds(1);
  while (Clock::now() < end) {
    std::this_thread::sleep_until(std::min(next_tick, end));
    const Interval iv = fleet.take_interval(connected);
    run.timeline.push_back(progress.tick(duration<double>(Clock::now() - ramp_start).count(), iv, connected, true));
    next_tick += std::chrono::seconds(1);
  }
  run.window_s = duration<double>(Clock::now() - start).count();
  for (std::size_t i = 0; i < fleet.threads.size(); ++i)
    run.thread_cpu_share.push_back((thread_cpu_s(fleet.threads[i]) - cpu0[i]) / run.window_s);
  run.process_cpu_s = process_cpu_s() - proc0;
  if (server0 >= 0) run.server_cpu_share = (process_cpu_seconds(o.server_pid) - server0) / run.window_s;
  progress.done();

  // Drain: acks of inputs due near the end, then stop sending so the counts settle.
  std::this_thread::sleep_for(std::chrono::duration_cast<Clock::duration>(duration<double>(o.drain_s)));
  for (auto& w : fleet.workers) w->call([](Worker& wk) { wk.stop_sending(); }, milliseconds(10000));
  settle(fleet, o, run);
  const auto before_collect = fetch_metrics(o.host, o.port, &run.metrics_error);
  for (auto& w : fleet.workers) {
    auto s = std::make_shared<Stats>();
    w->call([s](Worker& wk) {
      wk.finish();
      *s = wk.stats;
    }, milliseconds(10000));
    run.stats.merge(*s);
  }
  const auto after_collect = fetch_metrics(o.host, o.port, &run.metrics_error);
  // Messages keep flowing (arena ticks) while counts are read: take the server's midpoint.
  if (before_collect && after_collect && !run.server_before.empty()) {
    for (const auto& [k, v] : *before_collect) {
      const auto it = after_collect->find(k);
      run.server_after[k] = it == after_collect->end() ? v : (v + it->second) / 2;
    }
  }
  fleet.stop();
  if (spawned) spawned->stop();

  for (const auto& w : fleet.workers)
    if (w->welcome_server.size()) run.server_version = w->welcome_server;
  if (run.server_before.empty()) run.warnings.push_back("no /metrics: " + run.metrics_error);
  double max_share = 0;
  for (double c : run.thread_cpu_share) max_share = std::max(max_share, c);
  if (max_share > 0.9)
    run.warnings.push_back("the generator was saturated (a thread used " + std::to_string(int(max_share * 100)) +
                           " % of a core): latency includes its own delay; add --threads or generator machines");

  auto report = build_report(run);
  const auto figures = threshold_figures(report);
  nlohmann::json verdicts = nlohmann::json::array();
  bool all_passed = true;
  for (const auto& t : o.thresholds) {
    const auto v = evaluate(t, figures);
    all_passed = all_passed && v.passed;
    verdicts.push_back({{"threshold", t.text}, {"metric", t.metric}, {"limit", t.limit},
                        {"actual", v.actual ? nlohmann::json(*v.actual) : nlohmann::json()}, {"passed", v.passed},
                        {"detail", v.detail}});
  }
  report["thresholds"] = verdicts;
  report["verdict"] = all_passed ? "passed" : "threshold missed";
  report["exit_code"] = all_passed ? kExitPassed : kExitThresholdMissed;

  int code = all_passed ? kExitPassed : kExitThresholdMissed;
  if (!o.report_path.empty()) {
    std::ofstream out(o.report_path);
    out << report.dump(2) << "\n";
    if (!out) std::fprintf(stderr, "mtown loadtest: cannot write %s\n", o.report_path.c_str()), code = kExitFailed;
  }
  if (!o.html_path.empty()) {
    std::ofstream out(o.html_path);
    out << render_html(report);
    if (!out) std::fprintf(stderr, "mtown loadtest: cannot write %s\n", o.html_path.c_str()), code = kExitFailed;
  }
  std::fputs(summary_text(report).c_str(), stdout);
  std::fflush(stdout);
  return code;
}

}  // namespace mtown::loadtest
