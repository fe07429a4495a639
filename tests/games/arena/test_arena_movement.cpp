// Arena movement: speed cap per tick, diagonals, target points, field clamping, facing.
#include <algorithm>
#include <cmath>

#include "arena_test_support.hpp"

using namespace arena_test;

namespace {

double moved(const ArenaPlayer& before, const ArenaPlayer& after) {
  return std::hypot(static_cast<double>(after.x - before.x), static_cast<double>(after.y - before.y));
}

}  // namespace

TEST_CASE("a far target advances exactly the speed cap per tick", "[arena][move]") {
  for (const std::uint32_t hz : {1u, 20u, 30u, 60u, 128u}) {
    INFO("tick_hz " << hz);
    Match m(humans(2), ArenaOptions{hz, 60});
    const std::int64_t cap = m.game.tuning().speed_per_tick;
    m.step({in(0, move_to(1000, 100))});  // seat 0 starts at (100, 100): 900 units away
    CHECK(m.p(0).x == 100 * kU + cap);
    CHECK(m.p(0).y == 100 * kU);
    m.step();
    CHECK(m.p(0).x == 100 * kU + 2 * cap);
  }
}

TEST_CASE("a teleport request is clamped to the speed cap", "[arena][move]") {
  Match m(humans(2));
  const auto before = m.p(0);
  m.step({in(0, move_to(1000, 1000))});
  const double d = moved(before, m.p(0));
  CHECK(d <= 5000.0);
  CHECK(d >= 4998.0);
  CHECK(m.p(0).x == m.p(0).y);  // straight along the diagonal
}

TEST_CASE("direction moves respect the cap within rounding and scale below length 1000", "[arena][move]") {
  struct Row {
    std::int64_t dx, dy;
    double expected;  // milli-units per tick at 60 Hz
  };
  const std::vector<Row> rows = {
      {1000, 0, 5000},     {0, 1000, 5000},     {1000, 1000, 5000},   {-1000, 1000, 5000},
      {600, 800, 5000},    {-1000, 500, 5000},  {700, 700, 4949.75},  {500, 0, 2500},
      {0, -250, 1250},     {1, 1, 7.07},        {3, -4, 25},          {1000, 1, 5000},
  };
  for (const auto& r : rows) {
    INFO("dx " << r.dx << " dy " << r.dy);
    Match m(humans(2));
    m.walk_to(0, 500, 500);
    const auto before = m.p(0);
    m.step({in(0, move_dir(r.dx, r.dy))});
    const double d = moved(before, m.p(0));
    CHECK(d <= r.expected + 0.01);
    CHECK(d >= r.expected - 5.0);
    CHECK(d <= 5000.0);
    // Every further tick moves the same amount.
    const auto mid = m.p(0);
    m.step();
    CHECK(m.p(0).x - mid.x == mid.x - before.x);
    CHECK(m.p(0).y - mid.y == mid.y - before.y);
  }
}

TEST_CASE("a near target is reached exactly, then the player stays", "[arena][move]") {
  Match m(humans(2));
  m.step({in(0, move_to(102.5, 101))});
  CHECK(m.p(0).x == 102500);
  CHECK(m.p(0).y == 101000);
  m.step();
  CHECK(m.p(0).x == 102500);
  CHECK(m.p(0).vx == 0);
}

TEST_CASE("fractional targets round to milli-units", "[arena][move]") {
  struct Row {
    double x, y;
    std::int64_t mx, my;
  };
  const std::vector<Row> rows = {
      {100.2506, 100.0004, 100251, 100000}, {99.9996, 100.0014, 100000, 100001}, {101.25, 98.75, 101250, 98750}};
  for (const auto& r : rows) {
    Match m(humans(2));
    m.step({in(0, move_to(r.x, r.y))});
    CHECK(m.p(0).x == r.mx);
    CHECK(m.p(0).y == r.my);
  }
}

TEST_CASE("the field clamps movement; walls are slid along", "[arena][move]") {
  SECTION("straight into the left wall") {
    Match m(humans(2));
    m.step({in(0, move_dir(-1000, 0))});
    m.idle(29);
    CHECK(m.p(0).x == 0);
    CHECK(m.p(0).y == 100 * kU);
  }
  SECTION("diagonally into the top-left corner region slides down the wall") {
    Match m(humans(2));
    m.step({in(0, move_dir(-1000, 1000))});
    m.idle(39);
    const std::int64_t per_axis = 5000 * 1000 / 1415;  // ceil(sqrt(2e6)) = 1415
    CHECK(m.p(0).x == 0);
    CHECK(m.p(0).y == 100 * kU + 40 * per_axis);
  }
  SECTION("into the far corner") {
    Match m(humans(2));
    m.step({in(1, move_dir(1000, 1000))});
    m.idle(100);
    CHECK(m.p(1).x == 1000 * kU);
    CHECK(m.p(1).y == 1000 * kU);
    CHECK(m.p(1).vx == 0);
  }
  SECTION("targets on the edge are allowed") {
    Match m(humans(2));
    m.walk_to(0, 0, 1000);
    CHECK(m.p(0).x == 0);
    CHECK(m.p(0).y == 1000 * kU);
  }
}

TEST_CASE("a zero direction stops; the last move in a tick wins", "[arena][move]") {
  Match m(humans(2));
  m.step({in(0, move_dir(1000, 0))});
  const auto x = m.p(0).x;
  m.step({in(0, move_dir(0, 0))});
  CHECK(m.p(0).x == x);
  m.step({in(0, move_dir(1000, 0)), in(0, move_dir(-1000, 0))});
  CHECK(m.p(0).x == x - 5000);
}

TEST_CASE("facing follows movement as a length-1000 vector", "[arena][move]") {
  struct Row {
    std::int64_t dx, dy, fx, fy;
  };
  const std::vector<Row> rows = {
      {1000, 0, 1000, 0}, {0, -1000, 0, -1000}, {-3, 4, -600, 800}, {1000, 1000, 707, 707}};
  for (const auto& r : rows) {
    Match m(humans(2));
    m.walk_to(0, 500, 500);
    m.step({in(0, move_dir(r.dx, r.dy))});
    CHECK(m.p(0).fx == r.fx);
    CHECK(m.p(0).fy == r.fy);
  }
}
