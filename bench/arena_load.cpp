// arena_load: N arena clients against a running `mtown serve` (WebSocket, rooms of 8 that
// auto-start when full) or, with --raw, against bench/raw_floor (length-prefixed TCP
// frames, no rooms). Each client sends a move input at --input-hz on a fixed schedule and
// measures state messages/s and input-to-visible latency from the *scheduled* send time
// (no coordinated omission). Loopback only; bounded by --duration; prints one JSON report.
// Threads: one io_context per --threads worker, each owning whole rooms; no shared state
// but the atomic counters and the measurement window set by the main thread.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>

#include "arena_load_clients.hpp"

using namespace arena_load;
using nlohmann::json;

namespace {

double cpu_seconds_of(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = s.rfind(')');  // comm may contain spaces
  if (close == std::string::npos) return -1;
  std::istringstream rest(s.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {  // fields 14, 15: utime, stime in clock ticks
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Seconds the process's threads spent waiting for a CPU while runnable (schedstat field 2):
// how much other work on the machine held the server back.
double runqueue_wait_seconds_of(int pid) {
  double ns = 0;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(task.path() / "schedstat");
    double run = 0, wait = 0;
    if (in >> run >> wait) ns += wait;
  }
  return ns / 1e9;
}

double self_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// ---- main -------------------------------------------------------------------------------

std::optional<Options> parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    if (a == "--url") {
      const std::string url = next();  // ws://HOST:PORT/PATH or tcp://HOST:PORT (raw)
      const auto scheme = url.find("://");
      const auto colon = url.find(':', scheme + 3);
      const auto slash = url.find('/', scheme + 3);
      if (scheme == std::string::npos || colon == std::string::npos) throw std::invalid_argument("bad --url " + url);
      o.host = url.substr(scheme + 3, colon - scheme - 3);
      o.port = static_cast<unsigned short>(std::stoi(url.substr(colon + 1, slash - colon - 1)));
      if (slash != std::string::npos) o.path = url.substr(slash);
      if (url.starts_with("tcp://")) o.raw = true;
    } else if (a == "--clients") o.clients = std::stoi(next());
    else if (a == "--duration") o.duration_s = std::stod(next());
    else if (a == "--warmup") o.warmup_s = std::stod(next());
    else if (a == "--input-hz") o.input_hz = std::stod(next());
    else if (a == "--threads") o.threads = std::stoi(next());
    else if (a == "--raw") o.raw = true;
    else if (a == "--raw-input-bytes") o.raw_input_bytes = std::stoul(next());
    else if (a == "--server-pid") o.server_pid = std::stoi(next());
    else if (a == "--setup-timeout") o.setup_timeout_s = std::stod(next());
    else if (a == "--verify") o.verify = true;
    else throw std::invalid_argument("unknown option " + a);
  }
  if (o.host == "localhost") o.host = "127.0.0.1";
  const auto addr = net::ip::make_address(o.host);
  if (!addr.is_loopback()) throw std::invalid_argument("loopback addresses only, got " + o.host);
  if (o.port == 0) throw std::invalid_argument("--url ws://127.0.0.1:PORT/ws is required");
  if (o.clients < 1 || o.threads < 1 || o.input_hz <= 0 || o.duration_s <= 0 || o.duration_s > 3600)
    throw std::invalid_argument("need --clients >= 1, --threads >= 1, --input-hz > 0, 0 < --duration <= 3600");
  return o;
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  return sorted[static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1))];
}

json report(const Options& o, Stats& s, int started, int failed, double setup_s, double server_cpu_s,
            double server_wait_s, double gen_cpu_s, double gen_wait_s) {
  std::sort(s.latency_us.begin(), s.latency_us.end());
  std::sort(s.state_rate.begin(), s.state_rate.end());
  std::vector<double> lat_ms;
  lat_ms.reserve(s.latency_us.size());
  for (auto us : s.latency_us) lat_ms.push_back(us / 1000.0);
  double rate_sum = 0;
  for (double r : s.state_rate) rate_sum += r;
  const auto round3 = [](double v) { return std::round(v * 1000.0) / 1000.0; };
  json server = {{"pid", o.server_pid}};
  if (o.server_pid > 0) {
    server["cpu_s"] = round3(server_cpu_s);
    server["cpu_util"] = round3(server_cpu_s / o.duration_s);
    server["cpu_us_per_state_msg"] = s.state_messages ? round3(server_cpu_s * 1e6 / s.state_messages) : 0.0;
    server["runqueue_wait_s"] = round3(server_wait_s);  // > a few % of duration_s: a disturbed run
  }
  return {{"mode", o.raw ? "raw" : "mtown"},
          {"url", (o.raw ? "tcp://" : "ws://") + o.host + ":" + std::to_string(o.port) + (o.raw ? "" : o.path)},
          {"clients", static_cast<int>(s.state_rate.size())},
          {"clients_started", started},
          {"clients_failed", failed},
          {"threads", o.threads},
          {"input_hz", o.input_hz},
          {"warmup_s", o.warmup_s},
          {"duration_s", o.duration_s},
          {"setup_s", round3(setup_s)},
          {"state_msgs_per_client_per_s",
           {{"avg", round3(s.state_rate.empty() ? 0 : rate_sum / s.state_rate.size())},
            {"p5", round3(percentile(s.state_rate, 0.05))},
            {"min", round3(s.state_rate.empty() ? 0 : s.state_rate.front())}}},
          {"latency_ms",
           {{"count", lat_ms.size()}, {"unacked", s.unacked}, {"p50", round3(percentile(lat_ms, 0.50))},
            {"p95", round3(percentile(lat_ms, 0.95))}, {"p99", round3(percentile(lat_ms, 0.99))},
            {"max", round3(lat_ms.empty() ? 0 : lat_ms.back())}}},
          {"received",
           {{"messages", s.messages}, {"bytes", s.bytes}, {"state_messages", s.state_messages},
            {"avg_state_bytes", s.state_messages ? round3(double(s.state_bytes) / s.state_messages) : 0.0},
            {"avg_state_wire_bytes", s.state_messages ? round3(double(s.state_wire_bytes) / s.state_messages) : 0.0},
            {"bytes_per_client_per_s",
             s.state_rate.empty() ? 0.0 : round3(s.bytes / o.duration_s / s.state_rate.size())}}},
          {"sent", {{"inputs", s.inputs}, {"bytes", s.input_bytes}}},
          {"errors", s.errors},
          {"disconnects", s.disconnects},
          {"server", server},
          {"generator",
           {{"cpu_s", round3(gen_cpu_s)}, {"cpu_util", round3(gen_cpu_s / o.duration_s)},
            {"runqueue_wait_s", round3(gen_wait_s)}}}};
}

int run(const Options& o) {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);

  Window window;
  std::atomic<int> started{0}, failed{0};
  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < o.threads; ++t) workers.push_back(std::make_unique<Worker>(o, window, started, failed));
  const int rooms = (o.clients + kRoomSize - 1) / kRoomSize;
  if (rooms * kRoomSize != o.clients) std::cerr << "arena_load: rounding up to " << rooms * kRoomSize << " clients\n";
  for (int r = 0; r < rooms; ++r) workers[r % o.threads]->add_room();
  const int total = rooms * kRoomSize;

  const auto setup_begin = Clock::now();
  std::vector<std::thread> threads;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> guards;
  for (auto& w : workers) {
    guards.push_back(net::make_work_guard(w->ioc));
    net::post(w->ioc, [wp = w.get()] { wp->begin(); });
    threads.emplace_back([wp = w.get()] { wp->ioc.run(); });
  }
  const auto seconds = [](double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  };
  const auto setup_deadline = setup_begin + seconds(o.setup_timeout_s);
  while (started.load() + failed.load() < total && Clock::now() < setup_deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const double setup_s = std::chrono::duration<double>(Clock::now() - setup_begin).count();

  const auto start = Clock::now() + seconds(o.warmup_s);
  const auto end = start + seconds(o.duration_s);
  window.end.store(end.time_since_epoch().count());
  window.start.store(start.time_since_epoch().count());
  std::this_thread::sleep_until(start);
  const double server0 = o.server_pid > 0 ? cpu_seconds_of(o.server_pid) : 0, gen0 = self_cpu_seconds();
  const double wait0 = o.server_pid > 0 ? runqueue_wait_seconds_of(o.server_pid) : 0;
  const double gen_wait0 = runqueue_wait_seconds_of(getpid());
  std::this_thread::sleep_until(end);
  const double server1 = o.server_pid > 0 ? cpu_seconds_of(o.server_pid) : 0, gen1 = self_cpu_seconds();
  const double wait1 = o.server_pid > 0 ? runqueue_wait_seconds_of(o.server_pid) : 0;
  const double gen_wait1 = runqueue_wait_seconds_of(getpid());
  std::this_thread::sleep_until(end + std::chrono::seconds(1));  // acks of inputs scheduled near the end

  for (auto& w : workers) w->ioc.stop();
  for (auto& t : threads) t.join();
  Stats all;
  for (auto& w : workers) {
    Stats s = w->collect(o.duration_s);
    all.latency_us.insert(all.latency_us.end(), s.latency_us.begin(), s.latency_us.end());
    all.state_rate.insert(all.state_rate.end(), s.state_rate.begin(), s.state_rate.end());
    all.messages += s.messages, all.bytes += s.bytes, all.state_messages += s.state_messages;
    all.state_bytes += s.state_bytes, all.state_wire_bytes += s.state_wire_bytes;
    all.inputs += s.inputs, all.input_bytes += s.input_bytes, all.unacked += s.unacked;
    all.errors += s.errors, all.disconnects += s.disconnects;
    w->close_all();
  }
  std::cout << report(o, all, started.load(), failed.load(), setup_s, server1 - server0, wait1 - wait0,
                   gen1 - gen0, gen_wait1 - gen_wait0).dump(2)
            << std::endl;
  return failed.load() == 0 && started.load() == total ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const auto opts = parse_args(argc, argv);
    return run(*opts);
  } catch (const std::exception& e) {
    std::cerr << "arena_load: " << e.what()
              << "\nusage: arena_load --url ws://127.0.0.1:PORT/ws [--clients N] [--duration S] [--warmup S]"
                 " [--input-hz HZ] [--threads T] [--raw | --url tcp://127.0.0.1:PORT] [--raw-input-bytes B]"
                 " [--server-pid PID] [--setup-timeout S] [--verify]\n";
    return 2;
  }
}
