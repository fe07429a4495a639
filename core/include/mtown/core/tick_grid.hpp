// Where fixed-rate rooms put their ticks: on a grid per rate, the multiples of the period
// counted from the clock's epoch, shifted by the room's lane offset (core/tick_lanes.hpp).
// Rooms of the same rate and lane tick at the same instants, so one timer expiry runs
// them all: the timer is re-armed ~120 times a second with one lane and ~480 with eight,
// against 3,350 for 75 rooms each on its own (docs/performance.md, "Ticks on a shared
// grid", "Tick lanes"). Which instant a tick runs at never changes what it computes: a
// game is stepped by tick number, not by time.
#pragma once
#include <chrono>

namespace mtown::core {

// The latest grid point at or before `t`. `period` > 0, 0 <= `offset` < `period`.
template <class Clock, class Duration>
std::chrono::time_point<Clock, Duration> tick_grid_floor(std::chrono::time_point<Clock, Duration> t,
                                                         std::chrono::nanoseconds period,
                                                         std::chrono::nanoseconds offset = {}) {
  const auto since = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()) - offset;
  auto steps = since / period;
  if (since.count() < 0 && since % period != std::chrono::nanoseconds::zero()) --steps;  // floor, not truncation
  return std::chrono::time_point<Clock, Duration>(std::chrono::duration_cast<Duration>(steps * period + offset));
}

// The first grid point strictly after `t`.
template <class Clock, class Duration>
std::chrono::time_point<Clock, Duration> tick_grid_after(std::chrono::time_point<Clock, Duration> t,
                                                         std::chrono::nanoseconds period,
                                                         std::chrono::nanoseconds offset = {}) {
  return tick_grid_floor(t, period, offset) + std::chrono::duration_cast<Duration>(period);
}

}  // namespace mtown::core
