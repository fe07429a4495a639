#include "progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace mtown::loadtest {

Progress::Progress(const Options& o, int total_bots)
    : o_(o), total_(total_bots), tty_(::isatty(2) == 1), every_s_(o.progress_s > 0 ? o.progress_s : (tty_ ? 1 : 5)) {}

TimelinePoint Progress::tick(double t_s, const Interval& iv, int connected, bool in_window) {
  const double dt = std::max(1e-3, t_s - last_t_);
  last_t_ = t_s;
  errors_ += iv.errors;
  recent_.push_back(iv);
  if (recent_.size() > 5) recent_.pop_front();
  Interval rolling;
  for (const auto& r : recent_) rolling.merge(r);
  const auto& h = iv.latency_us;
  TimelinePoint p{t_s, connected, iv.msgs_in / dt, iv.msgs_out / dt, iv.bytes_in / dt, iv.bytes_out / dt,
                  h.percentile(0.5) / 1000.0, h.percentile(0.95) / 1000.0, h.percentile(0.99) / 1000.0,
                  iv.errors, h.count(), in_window};
  if (o_.quiet || t_s - last_print_ < every_s_ - 0.01) return p;
  last_print_ = t_s;
  const auto& r = rolling.latency_us;
  char line[256];
  std::snprintf(line, sizeof line,
                "[%5.0fs %s] connected %d/%d  in %.0f/s  out %.0f/s  p50 %.1f ms  p95 %.1f ms  p99 %.1f ms  errors %llu",
                t_s, in_window ? "run " : "ramp", connected, total_, p.msgs_in_per_s, p.msgs_out_per_s,
                r.percentile(0.5) / 1000.0, r.percentile(0.95) / 1000.0, r.percentile(0.99) / 1000.0,
                static_cast<unsigned long long>(errors_));
  if (tty_) std::fprintf(stderr, "\r\033[K%s", line);
  else std::fprintf(stderr, "%s\n", line);
  std::fflush(stderr);
  return p;
}

void Progress::done() {
  if (tty_ && !o_.quiet) std::fputs("\n", stderr);
}

}  // namespace mtown::loadtest
