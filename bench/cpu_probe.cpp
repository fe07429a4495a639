// cpu_probe: how fast the machine's cores run right now, for reading benchmark figures on a
// shared VM whose guest kernel reports no steal time. A dependent chain of integer steps
// (no memory traffic) runs for --ms on each listed core alone, then on all of them at once;
// the JSON gives millions of steps per second for each. Then the latency of a load that
// misses the caches on each core: a pointer chase through 64 MiB in random order, in ns. A core that is slower alone than it
// was in an earlier probe, or slower when its neighbour runs too (SMT siblings, or a host
// that gives the VM less than its cores), will charge more CPU time per message to
// whatever runs on it. bench/arena_vs_floor.sh runs it before and after each series.
#include <pthread.h>
#include <sched.h>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

void pin_to(int core) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(core, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

// Millions of xorshift steps per second on `core` over `ms` milliseconds.
double steps_per_us(int core, int ms) {
  pin_to(core);
  using Clock = std::chrono::steady_clock;
  const auto end = Clock::now() + std::chrono::milliseconds(ms);
  std::uint64_t x = 88172645463325252ull, steps = 0;
  const auto start = Clock::now();
  while (Clock::now() < end) {
    for (int i = 0; i < 4096; ++i) x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    steps += 4096;
  }
  const double us = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
  volatile std::uint64_t sink = x;  // keeps the chain
  (void)sink;
  return static_cast<double>(steps) / us;
}

// Nanoseconds per dependent load through a random cycle over 64 MiB, on `core`.
double load_ns(int core, int ms) {
  pin_to(core);
  constexpr std::size_t kSlots = (64u << 20) / sizeof(std::size_t);
  std::vector<std::size_t> order(kSlots), next(kSlots);
  for (std::size_t i = 0; i < kSlots; ++i) order[i] = i;
  std::uint64_t x = 88172645463325252ull;
  for (std::size_t i = kSlots - 1; i > 0; --i) {  // Fisher-Yates with xorshift
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    std::swap(order[i], order[x % (i + 1)]);
  }
  for (std::size_t i = 0; i < kSlots; ++i) next[order[i]] = order[(i + 1) % kSlots];
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now(), end = start + std::chrono::milliseconds(ms);
  std::size_t at = 0, loads = 0;
  while (Clock::now() < end) {
    for (int i = 0; i < 4096; ++i) at = next[at];
    loads += 4096;
  }
  const double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
  volatile std::size_t sink = at;
  (void)sink;
  return ns / static_cast<double>(loads);
}

}  // namespace

int main(int argc, char** argv) {
  int ms = 300;
  std::vector<int> cores;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--ms") ms = std::stoi(argv[i + 1]);
    else if (a == "--core") cores.push_back(std::stoi(argv[i + 1]));
    else return std::cerr << "usage: cpu_probe [--ms MS] [--core N]...\n", 2;
  }
  if (cores.empty()) cores = {0, 1};
  nlohmann::json alone = nlohmann::json::object(), together = nlohmann::json::object();
  for (int c : cores) alone[std::to_string(c)] = steps_per_us(c, ms);
  std::vector<double> rates(cores.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < cores.size(); ++i) threads.emplace_back([&, i] { rates[i] = steps_per_us(cores[i], ms); });
  for (auto& t : threads) t.join();
  for (std::size_t i = 0; i < cores.size(); ++i) together[std::to_string(cores[i])] = rates[i];
  nlohmann::json load = nlohmann::json::object();
  for (int c : cores) load[std::to_string(c)] = load_ns(c, ms);
  std::cout << nlohmann::json{{"ms", ms}, {"steps_per_us_alone", alone}, {"steps_per_us_together", together},
                              {"load_miss_ns", load}}
                   .dump()
            << std::endl;
}
