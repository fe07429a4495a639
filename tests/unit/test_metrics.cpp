// Prometheus metrics: values, the text exposition, label escaping and registry identity.
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "mtown/core/metrics.hpp"

using namespace mtown::core;

TEST_CASE("metrics: counter, gauge and histogram values", "[metrics]") {
  Counter c;
  CHECK(c.value() == 0);
  c.inc();
  c.inc(5);
  CHECK(c.value() == 6);

  Gauge g;
  g.set(2.5);
  g.add(-1);
  CHECK(g.value() == 1.5);
  g.add(0.25);
  CHECK(g.value() == 1.75);

  mtown::core::Histogram h({1, 2, 5});
  CHECK(h.cumulative() == std::vector<std::uint64_t>{0, 0, 0, 0});
  for (double v : {0.5, 1.0, 1.5, 5.0, 7.0}) h.observe(v);  // a value equal to a bound is in it (le)
  CHECK(h.cumulative() == std::vector<std::uint64_t>{2, 3, 4, 5});
  CHECK(h.sum() == 15.0);
  CHECK(h.count() == 5);
  CHECK_THROWS_AS(mtown::core::Histogram({2, 1}), std::invalid_argument);

  CHECK(exponential_buckets(1, 2, 4) == std::vector<double>{1, 2, 4, 8});
  CHECK(exponential_buckets(0.5, 10, 3) == std::vector<double>{0.5, 5, 50});
  CHECK(exponential_buckets(1, 2, 0).empty());
}

TEST_CASE("metrics: updates from several threads are not lost", "[metrics][threads]") {
  Counter c;
  Gauge g;
  mtown::core::Histogram h({10});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c.inc();
        g.add(1);
        h.observe(1);
      }
    });
  for (auto& t : threads) t.join();
  CHECK(c.value() == 40000);
  CHECK(g.value() == 40000.0);
  CHECK(h.count() == 40000);
  CHECK(h.sum() == 40000.0);
  CHECK(h.cumulative() == std::vector<std::uint64_t>{40000, 40000});
}

TEST_CASE("metrics: render_labels escapes quotes, backslashes and newlines", "[metrics]") {
  const std::pair<Labels, std::string> rows[] = {
      {{}, ""},
      {{{"a", "1"}}, R"({a="1"})"},
      {{{"a", "1"}, {"b", "2"}}, R"({a="1",b="2"})"},
      {{{"path", "a\"b"}}, R"({path="a\"b"})"},
      {{{"path", "a\\b"}}, R"({path="a\\b"})"},
      {{{"path", "a\nb"}}, R"({path="a\nb"})"},
      {{{"path", "\"\\"}}, R"({path="\"\\"})"},
  };
  for (const auto& [labels, rendered] : rows) CHECK(render_labels(labels) == rendered);
}

TEST_CASE("metrics: the same (name, labels) is the same metric", "[metrics]") {
  MetricsRegistry r;
  Counter& a = r.counter("mtown_x_total", "x");
  CHECK(&r.counter("mtown_x_total", "x") == &a);
  Counter& labelled = r.counter("mtown_x_total", "x", {{"type", "ping"}});
  CHECK(&labelled != &a);
  CHECK(&r.counter("mtown_x_total", "x", {{"type", "ping"}}) == &labelled);
  CHECK(&r.counter("mtown_x_total", "x", {{"type", "chat"}}) != &labelled);
  Gauge& g = r.gauge("mtown_g", "g");
  CHECK(&r.gauge("mtown_g", "g") == &g);
  mtown::core::Histogram& h = r.histogram("mtown_h", "h", {1, 2});
  CHECK(&r.histogram("mtown_h", "h", {1, 2}) == &h);

  a.inc(2);
  CHECK(r.counter("mtown_x_total", "x").value() == 2);
  CHECK(labelled.value() == 0);
}

TEST_CASE("metrics: one name cannot have two types", "[metrics]") {
  MetricsRegistry r;
  r.counter("mtown_thing", "a counter").inc(3);
  CHECK_THROWS_AS(r.gauge("mtown_thing", "g"), std::logic_error);
  CHECK_THROWS_AS(r.histogram("mtown_thing", "h", {1}), std::logic_error);
  CHECK_THROWS_AS(r.gauge("mtown_thing", "g", {{"a", "b"}}), std::logic_error);
  r.gauge("mtown_other", "g");
  CHECK_THROWS_AS(r.counter("mtown_other", "c"), std::logic_error);
  // The registry is still usable and still renders the original type.
  const std::string out = r.render();
  CHECK_THAT(out, Catch::Contains("# TYPE mtown_thing counter\nmtown_thing 3\n"));
  CHECK_THAT(out, Catch::Contains("# TYPE mtown_other gauge\n"));
}

TEST_CASE("metrics: a histogram refused for unsorted bounds leaves the registry usable", "[metrics]") {
  MetricsRegistry r;
  CHECK_THROWS_AS(r.histogram("mtown_h", "h", {2, 1}), std::invalid_argument);
  std::string out;
  CHECK_NOTHROW(out = r.render());
  CHECK(out.find("mtown_h_bucket") == std::string::npos);
  mtown::core::Histogram& h = r.histogram("mtown_h", "h", {1, 2});
  h.observe(1.5);
  CHECK_THAT(r.render(), Catch::Contains("mtown_h_bucket{le=\"2\"} 1\n"));
}

TEST_CASE("metrics: render in the Prometheus text format", "[metrics]") {
  MetricsRegistry r;
  r.counter("mtown_msgs_total", "Messages", {{"type", "ping"}}).inc(3);
  r.counter("mtown_msgs_total", "Messages", {{"type", "say \"hi\" \\o/"}}).inc();
  r.gauge("mtown_conns", "Open connections").set(1.5);
  r.gauge("mtown_whole", "A whole number").set(3);
  auto& lat = r.histogram("mtown_lat_seconds", "Latency", {0.1, 1, 10});
  for (double v : {0.05, 0.1, 0.5, 20.0}) lat.observe(v);
  auto& op = r.histogram("mtown_op_seconds", "Per op", {1}, {{"op", "x"}});
  op.observe(0.5);
  op.observe(2);

  const std::string out = r.render();
  INFO(out);
  CHECK_THAT(out, Catch::Contains("# HELP mtown_msgs_total Messages\n# TYPE mtown_msgs_total counter\n"));
  CHECK_THAT(out, Catch::Contains("mtown_msgs_total{type=\"ping\"} 3\n"));
  CHECK_THAT(out, Catch::Contains(R"(mtown_msgs_total{type="say \"hi\" \\o/"} 1)" "\n"));
  CHECK_THAT(out, Catch::Contains("# TYPE mtown_conns gauge\nmtown_conns 1.5\n"));
  CHECK_THAT(out, Catch::Contains("\nmtown_whole 3\n"));

  CHECK_THAT(out, Catch::Contains("# TYPE mtown_lat_seconds histogram\n"));
  CHECK_THAT(out, Catch::Contains("mtown_lat_seconds_bucket{le=\"0.1\"} 2\n"
                                  "mtown_lat_seconds_bucket{le=\"1\"} 3\n"
                                  "mtown_lat_seconds_bucket{le=\"10\"} 3\n"
                                  "mtown_lat_seconds_bucket{le=\"+Inf\"} 4\n"
                                  "mtown_lat_seconds_sum 20.65\n"
                                  "mtown_lat_seconds_count 4\n"));
  CHECK_THAT(out, Catch::Contains("mtown_op_seconds_bucket{op=\"x\",le=\"1\"} 1\n"
                                  "mtown_op_seconds_bucket{op=\"x\",le=\"+Inf\"} 2\n"
                                  "mtown_op_seconds_sum{op=\"x\"} 2.5\n"
                                  "mtown_op_seconds_count{op=\"x\"} 2\n"));
  // Every sample line is "name[{labels}] value"; every family has HELP then TYPE.
  std::size_t pos = 0;
  while (pos < out.size()) {
    const auto eol = out.find('\n', pos);
    REQUIRE(eol != std::string::npos);
    const std::string line = out.substr(pos, eol - pos);
    if (line.rfind("# TYPE ", 0) == 0) CHECK(out.substr(0, pos).rfind("# HELP ") != std::string::npos);
    if (line[0] != '#') CHECK(line.rfind(' ') != std::string::npos);
    pos = eol + 1;
  }
}

TEST_CASE("metrics: on_collect runs at each render", "[metrics]") {
  MetricsRegistry r;
  auto& g = r.gauge("mtown_collected", "set at render");
  int calls = 0;
  r.on_collect([&] { g.set(++calls * 10); });
  CHECK(calls == 0);
  CHECK_THAT(r.render(), Catch::Contains("mtown_collected 10\n"));
  CHECK_THAT(r.render(), Catch::Contains("mtown_collected 20\n"));
  CHECK(calls == 2);
  // A collector may register metrics itself without deadlocking the render.
  r.on_collect([&] { r.counter("mtown_late_total", "late").inc(); });
  CHECK_THAT(r.render(), Catch::Contains("mtown_late_total 1\n"));
}
