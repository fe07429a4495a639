// Tick lanes: fixed-rate rooms spread over evenly spaced phases of their period.
#include <chrono>
#include <stdexcept>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "mtown/core/tick_lanes.hpp"

using mtown::core::TickLanes;
using namespace std::chrono;

TEST_CASE("tick lanes: each room takes the lane with the fewest rooms", "[tick_lanes]") {
  TickLanes lanes(4);
  std::vector<TickLanes::Lease> held;
  for (int i = 0; i < 4; ++i) held.push_back(lanes.acquire());
  for (unsigned i = 0; i < 4; ++i) {
    CHECK(held[i].lane() == i);
    CHECK(lanes.rooms_in(i) == 1);
  }
  held.push_back(lanes.acquire());  // all equal: the lowest lane
  CHECK(held.back().lane() == 0);
  held[2].reset();  // lane 2 is now the emptiest
  CHECK(lanes.rooms_in(2) == 0);
  CHECK(lanes.acquire().lane() == 2);  // a temporary: given back at once
  CHECK(lanes.rooms_in(2) == 0);
  auto third = lanes.acquire();
  CHECK(third.lane() == 2);
  CHECK(lanes.rooms_in(2) == 1);
}

TEST_CASE("tick lanes: a lease is given back exactly once", "[tick_lanes]") {
  TickLanes lanes(2);
  {
    auto a = lanes.acquire();
    auto moved = std::move(a);
    CHECK_FALSE(a.held());
    CHECK(moved.held());
    a.reset();  // a moved-from lease gives back nothing
    CHECK(lanes.rooms_in(0) == 1);
    TickLanes::Lease assigned;
    assigned = std::move(moved);
    CHECK(lanes.rooms_in(0) == 1);
    assigned = lanes.acquire();  // lane 1 (fewest); the lease on lane 0 is given back first
    CHECK(lanes.rooms_in(0) == 0);
    CHECK(lanes.rooms_in(1) == 1);
  }
  CHECK(lanes.rooms_in(0) == 0);
  CHECK(lanes.rooms_in(1) == 0);
}

TEST_CASE("tick lanes: offsets split the period evenly; one lane is the plain grid", "[tick_lanes]") {
  const nanoseconds period(1'000'000'000 / 60);
  TickLanes eight(8);
  std::vector<TickLanes::Lease> held;
  for (int i = 0; i < 8; ++i) held.push_back(eight.acquire());
  for (unsigned i = 0; i < 8; ++i) CHECK(held[i].offset(period) == period * i / 8);
  CHECK(held[7].offset(period) < period);
  TickLanes one(1);
  CHECK(one.acquire().offset(period) == nanoseconds::zero());
  CHECK(TickLanes::Lease().offset(period) == nanoseconds::zero());
  CHECK_THROWS_AS(TickLanes(0), std::invalid_argument);
  CHECK_THROWS_AS(TickLanes(TickLanes::kMaxLanes + 1), std::invalid_argument);
}

TEST_CASE("tick lanes: a lease may outlive the lanes it came from", "[tick_lanes]") {
  TickLanes::Lease kept;
  {
    TickLanes lanes(4);
    const auto first = lanes.acquire();
    kept = lanes.acquire();
    CHECK(kept.lane() == 1);
  }
  CHECK(kept.held());
  // Lane 1 of 4: the offset reads the lane count from the shared counts.
  CHECK(kept.offset(std::chrono::nanoseconds(400)) == std::chrono::nanoseconds(100));
  kept.reset();  // under ASan: no use after free
  CHECK_FALSE(kept.held());
}
