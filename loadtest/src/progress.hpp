// Live progress on stderr: one line rewritten every second on a terminal, a plain line
// every few seconds otherwise (CI logs). Also turns each second's counters into a
// timeline point for the reports. Main thread only.
#pragma once
#include <deque>

#include "report.hpp"

namespace mtown::loadtest {

class Progress {
 public:
  Progress(const Options& o, int total_bots);
  TimelinePoint tick(double t_s, const Interval& iv, int connected, bool in_window);
  void done();  // ends the terminal line

 private:
  const Options& o_;
  int total_;
  bool tty_;
  int every_s_;
  double last_t_ = 0, last_print_ = -1e9;
  std::uint64_t errors_ = 0;
  std::deque<Interval> recent_;  // rolling percentiles over the last 5 s
};

}  // namespace mtown::loadtest
