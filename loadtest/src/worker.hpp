// One generator thread: an io_context run by exactly that thread, the bots (whole rooms)
// it owns, their start schedule (the ramp) and their counters. The runner talks to it
// only by posting to its io_context (snapshot, stop) and through the atomics below.
#pragma once
#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include "bot.hpp"
#include "read_poller.hpp"
#include "mtown/core/recv_ring.hpp"

namespace mtown::loadtest {

// A bot to start at `at` (seconds after the ramp begins); built by the runner.
struct PlannedBot {
  Scenario scenario;
  int index;
  std::shared_ptr<RoomGroup> group;
  int slot;
  double at_s;
};

class Worker {
 public:
  Worker(const Options& o, Window& window, tcp::endpoint endpoint);

  void add(PlannedBot b) { plan_.push_back(std::move(b)); }
  // Runs the io_context on the calling thread until stop(); starts bots on the ramp.
  void run(Clock::time_point ramp_start);
  // From any thread: ends run() after closing every bot.
  void stop();
  // From any thread: runs `f` on this worker's thread and waits for it (bounded).
  bool call(const std::function<void(Worker&)>& f, std::chrono::milliseconds timeout);

  // On the worker's thread.
  void stop_sending();
  void finish();  // collects the bots' pending figures into stats
  void bot_settled(const Bot& b);

  const Options& opts;
  Window& window;
  tcp::endpoint endpoint;
  std::string host_header;
  net::io_context ioc{1};
  // The bots' reads, once their connection is open: through the ring where the kernel has
  // one (and --io-uring is not off), else readiness from the poller and a recv each.
  ReadPoller poller{ioc};
  std::unique_ptr<RecvRing> ring;  // opened by run(), on the worker's thread
  std::atomic<bool> reads_through_ring{false};
  Stats stats;
  Interval interval;
  std::string welcome_server;  // the server's version, from the first welcome
  int connected = 0;  // open connections (worker thread only; read through call())
  std::atomic<int> settled{0};  // bots that reached their steady state or failed
  std::atomic<int> started{0};

 private:
  void start_due();

  std::vector<PlannedBot> plan_;
  std::vector<std::shared_ptr<Bot>> bots_;
  std::size_t next_ = 0;
  Clock::time_point ramp_start_{};
  net::steady_timer ramp_timer_{ioc};
  net::executor_work_guard<net::io_context::executor_type> guard_{ioc.get_executor()};
};

std::shared_ptr<Bot> make_bot(Worker& w, const PlannedBot& p);

}  // namespace mtown::loadtest
