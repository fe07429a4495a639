// The tick grid: fixed-rate rooms of one rate tick at the same instants, the multiples of
// the period since the clock's epoch.
#include <chrono>

#include <catch2/catch.hpp>

#include "mtown/core/tick_grid.hpp"

using namespace std::chrono;
using mtown::core::tick_grid_after;
using mtown::core::tick_grid_floor;

namespace {
using Point = steady_clock::time_point;
Point at(long long ns) { return Point(duration_cast<steady_clock::duration>(nanoseconds(ns))); }
long long ns_of(Point p) { return duration_cast<nanoseconds>(p.time_since_epoch()).count(); }
constexpr nanoseconds k60Hz(1'000'000'000 / 60);  // 16,666,666 ns, as GameRunner's period
}  // namespace

TEST_CASE("tick grid: floor is the latest multiple of the period at or before t", "[tick_grid]") {
  CHECK(ns_of(tick_grid_floor(at(0), k60Hz)) == 0);
  CHECK(ns_of(tick_grid_floor(at(16'666'665), k60Hz)) == 0);
  CHECK(ns_of(tick_grid_floor(at(16'666'666), k60Hz)) == 16'666'666);
  CHECK(ns_of(tick_grid_floor(at(49'999'997), k60Hz)) == 33'333'332);
  CHECK(ns_of(tick_grid_floor(at(50'000'000), k60Hz)) == 49'999'998);
  // Before the epoch it still rounds down, never toward zero.
  CHECK(ns_of(tick_grid_floor(at(-1), k60Hz)) == -16'666'666);
  CHECK(ns_of(tick_grid_floor(at(-16'666'666), k60Hz)) == -16'666'666);
}

TEST_CASE("tick grid: after is strictly later and at most one period away", "[tick_grid]") {
  for (long long t : {0LL, 1LL, 16'666'665LL, 16'666'666LL, 123'456'789'012LL, -5LL}) {
    INFO(t);
    const auto next = ns_of(tick_grid_after(at(t), k60Hz));
    CHECK(next > t);
    CHECK(next - t <= k60Hz.count());
    CHECK(next % k60Hz.count() == 0);
  }
}

TEST_CASE("tick grid: rooms started at different times share their tick instants", "[tick_grid]") {
  const auto a = tick_grid_after(at(1'000'000'003), k60Hz);
  const auto b = tick_grid_after(at(1'000'000'003 + 7'000'000), k60Hz);
  // b's first tick is a's first or second one, and from there on they coincide.
  CHECK((b == a || b == a + k60Hz));
  CHECK(ns_of(b + 10 * k60Hz) % k60Hz.count() == 0);
  const nanoseconds hz128(1'000'000'000 / 128);
  CHECK(ns_of(tick_grid_after(at(999), hz128)) == hz128.count());
}

TEST_CASE("tick grid: an offset shifts every grid point by it", "[tick_grid]") {
  const nanoseconds lane3(k60Hz * 3 / 8);  // 6,249,999 ns
  CHECK(ns_of(tick_grid_floor(at(6'249'999), k60Hz, lane3)) == 6'249'999);
  CHECK(ns_of(tick_grid_floor(at(6'249'998), k60Hz, lane3)) == 6'249'999 - 16'666'666);
  CHECK(ns_of(tick_grid_floor(at(22'916'665), k60Hz, lane3)) == 22'916'665);
  for (long long t : {0LL, 1LL, 6'249'999LL, 16'666'666LL, 987'654'321'098LL, -5LL}) {
    INFO(t);
    const auto next = ns_of(tick_grid_after(at(t), k60Hz, lane3));
    CHECK(next > t);
    CHECK(next - t <= k60Hz.count());
    CHECK(((next - lane3.count()) % k60Hz.count() + k60Hz.count()) % k60Hz.count() == 0);
  }
}
