// mtown loadtest's pure parts: the log-linear histogram, thresholds, the input schedule,
// the state-message scanners (JSON and MessagePack) and flag parsing.
#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include <nlohmann/json.hpp>

#include "mtown/loadtest/histogram.hpp"
#include "mtown/loadtest/input_schedule.hpp"
#include "mtown/loadtest/options.hpp"
#include "mtown/loadtest/thresholds.hpp"
#include "mtown/loadtest/wire.hpp"

using namespace mtown::loadtest;
using nlohmann::json;

TEST_CASE("histogram: buckets cover every value and are at most 1/128 of it wide") {
  for (std::uint64_t v : std::vector<std::uint64_t>{0, 1, 127, 128, 129, 255, 256, 1000, 123456789, 1ull << 40,
                                                    UINT64_MAX}) {
    const int i = Histogram::index_of(v);
    REQUIRE(i >= 0);
    REQUIRE(i < Histogram::kBuckets);
    CHECK(Histogram::lowest_of(i) <= v);
    CHECK(Histogram::highest_of(i) >= v);
    if (v >= 128) CHECK(double(Histogram::highest_of(i) - Histogram::lowest_of(i) + 1) / double(v) <= 1.0 / 128 + 1e-12);
  }
  // Consecutive buckets tile the number line.
  for (int i = 1; i < 2000; ++i) CHECK(Histogram::lowest_of(i) == Histogram::highest_of(i - 1) + 1);
}

TEST_CASE("histogram: percentiles within 1 % of the exact order statistic, merged across threads") {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<> dist(9.0, 1.2);  // microseconds: ~8 ms median, long tail
  std::vector<std::uint64_t> all;
  Histogram a, b, merged;
  for (int i = 0; i < 200000; ++i) {
    const auto v = static_cast<std::uint64_t>(dist(rng)) + 1;
    all.push_back(v);
    (i % 2 ? a : b).record(v);
  }
  merged.merge(a);
  merged.merge(b);
  REQUIRE(merged.count() == all.size());
  std::sort(all.begin(), all.end());
  for (double q : {0.5, 0.9, 0.95, 0.99, 0.999}) {
    const auto exact = all[static_cast<std::size_t>(std::ceil(q * all.size())) - 1];
    const auto got = merged.percentile(q);
    INFO("q=" << q << " exact=" << exact << " got=" << got);
    CHECK(std::abs(double(got) - double(exact)) <= 0.01 * double(exact));
  }
  CHECK(merged.max() == all.back());
  CHECK(merged.min() == all.front());
  CHECK(merged.percentile(1.0) == all.back());
  Histogram empty;
  CHECK(empty.percentile(0.99) == 0);
}

TEST_CASE("thresholds: parse, units and verdicts that say by how much") {
  const auto p95 = parse_threshold("p95<50ms");
  CHECK(p95.metric == "p95");
  CHECK(p95.less);
  CHECK(p95.limit == Approx(50));
  CHECK(parse_threshold("p99<0.1s").limit == Approx(100));
  CHECK(parse_threshold("p50<=500us").limit == Approx(0.5));
  CHECK(parse_threshold("errors<0.1%").limit == Approx(0.1));
  CHECK(parse_threshold("errors<0.001").limit == Approx(0.1));
  const auto rate = parse_threshold("state_rate>55/s");
  CHECK_FALSE(rate.less);
  CHECK(rate.limit == Approx(55));
  CHECK(parse_threshold("memory_per_conn<20kB").limit == Approx(20000));

  CHECK_THROWS_WITH(parse_threshold("p95"), Catch::Contains("expected METRIC<VALUE"));
  CHECK_THROWS_WITH(parse_threshold("p96<5ms"), Catch::Contains("unknown metric \"p96\""));
  CHECK_THROWS_WITH(parse_threshold("p95<50"), Catch::Contains("give a unit"));
  CHECK_THROWS_WITH(parse_threshold("p95<50%"), Catch::Contains("does not fit"));
  CHECK_THROWS_WITH(parse_threshold("p95<fast"), Catch::Contains("expected a number"));

  const auto pass = evaluate(p95, {{"p95", 20.0}});
  CHECK(pass.passed);
  const auto miss = evaluate(p95, {{"p95", 73.0}});
  CHECK_FALSE(miss.passed);
  CHECK_THAT(miss.detail, Catch::Contains("over by 23 ms") && Catch::Contains("46.0 %"));
  const auto low = evaluate(rate, {{"state_rate", 40.0}});
  CHECK_FALSE(low.passed);
  CHECK_THAT(low.detail, Catch::Contains("under by 15/s"));
  const auto missing = evaluate(p95, {});
  CHECK_FALSE(missing.passed);
  CHECK_THAT(missing.detail, Catch::Contains("not measured"));
  CHECK(evaluate(parse_threshold("p95<=50ms"), {{"p95", 50.0}}).passed);
  CHECK(evaluate(parse_threshold("missed<=0"), {{"missed", 0.0}}).passed);
  CHECK_FALSE(evaluate(parse_threshold("missed<=0"), {{"missed", 3.0}}).passed);
  CHECK_FALSE(evaluate(p95, {{"p95", 50.0}}).passed);
}

TEST_CASE("input schedule: latency from the due time, catch-up bursts, skipped inputs counted") {
  using namespace std::chrono_literals;
  InputSchedule s;
  const auto t0 = Clock::time_point{} + 1h;
  s.start(20, t0);  // every 50 ms
  std::uint64_t seq;
  Clock::time_point due;
  s.begin_burst();
  CHECK_FALSE(s.take_due(t0 - 1ms, seq, due));
  REQUIRE(s.take_due(t0, seq, due));
  CHECK(seq == 1);
  CHECK(due == t0);
  // The generator stalls for 175 ms: inputs 2, 3, 4 go out late but keep their due times.
  s.begin_burst();
  std::vector<Clock::time_point> dues;
  while (s.take_due(t0 + 175ms, seq, due)) dues.push_back(due);
  REQUIRE(dues.size() == 3);
  CHECK(dues[2] == t0 + 150ms);
  std::vector<Clock::duration> lat;
  s.ack(3, [&](Clock::time_point d) { lat.push_back(t0 + 200ms - d); });
  REQUIRE(lat.size() == 3);
  CHECK(lat[0] == 200ms);
  CHECK(lat[2] == 100ms);
  s.ack(2, [&](Clock::time_point) { FAIL("an old ack acknowledges nothing new"); });
  // Two seconds behind: one burst of 16, the rest skipped and reported.
  s.begin_burst();
  int sent = 0, skipped = 0;
  while (s.take_due(t0 + 2s, seq, due)) ++sent;
  s.skip_behind(t0 + 2s, [&](Clock::time_point) { ++skipped; });
  CHECK(sent == InputSchedule::kMaxBurst);
  CHECK(sent + skipped == 41 - 4);  // inputs 5..41 were due by t0 + 2 s
  CHECK(s.next_due() > t0 + 2s);
  int unacked = 0;
  s.stop([&](Clock::time_point) { ++unacked; });
  CHECK(unacked == 1 + sent);  // input 4 and the burst
}

TEST_CASE("wire: the state scanners agree with a full decode, in JSON and MessagePack") {
  const json state = {{"acks", {17, 0, 5}}, {"code", "KX7P"},
                      {"delta", {{"players", {{"0", {{"x", 5000}, {"last_input_seq", 17}}}}}, {"tick", 121}, {"ticks_left", 7079}}},
                      {"events", json::array({{{"event", "hit"}, {"type", "x\"tick\":9"}}})}, {"tick", 121}, {"type", "state"}};
  // What the server sends: {"seq":N, + the body without its opening brace.
  const std::string text = "{\"seq\":42," + state.dump().substr(1);
  for (std::size_t seat : {0u, 1u, 2u, 7u}) {
    const auto s = scan_json_state(text, seat);
    REQUIRE(s);
    CHECK(s->seq == 42);
    CHECK(s->tick == 121);
    CHECK(s->ack == (seat < 3 ? state["acks"][seat].get<std::uint64_t>() : 0));
  }
  json with_seq = state;
  with_seq["seq"] = 42;
  std::string packed;
  json::to_msgpack(with_seq, packed);
  const auto m = scan_msgpack_state(packed, 2);
  REQUIRE(m);
  CHECK(m->seq == 42);
  CHECK(m->tick == 121);
  CHECK(m->ack == 5);

  const std::string welcome = R"({"seq":1,"player_id":"p_1","type":"welcome"})";
  CHECK_FALSE(scan_json_state(welcome, 0));
  CHECK(json_leading_seq(welcome) == 1u);
  CHECK_FALSE(json_leading_seq(R"({"type":"welcome","seq":1})"));
  std::string packed_welcome;
  json::to_msgpack(json{{"type", "welcome"}, {"seq", 1}}, packed_welcome);
  CHECK_FALSE(scan_msgpack_state(packed_welcome, 0));
  CHECK_FALSE(scan_msgpack_state(packed.substr(0, packed.size() / 2), 0));  // truncated: no crash, no result
  CHECK(json::parse(json_move_input(7, 1234, 50)) ==
        json{{"type", "input"}, {"input_seq", 7}, {"data", {{"action", "move"}, {"x", 123.4}, {"y", 5.0}}}});
}

TEST_CASE("loadtest flags: url, mix, ramp, source addresses") {
  Options o;
  parse_url("ws://127.0.0.1:9000/ws", o);
  CHECK(o.port == 9000);
  CHECK(o.path == "/ws");
  CHECK_THROWS_WITH(parse_url("http://127.0.0.1:9000", o), Catch::Contains("ws://"));
  CHECK_THROWS_WITH(parse_url("ws://example.com:80/ws", o), Catch::Contains("IP address"));
  const auto mix = parse_mix("arena=70,party=30");
  REQUIRE(mix.size() == 2);
  CHECK(mix[1].scenario == Scenario::party);
  CHECK(mix[1].percent == 30);
  CHECK_THROWS_WITH(parse_mix("arena=70,party=20"), Catch::Contains("add up to 100"));
  CHECK_THROWS_WITH(parse_mix("arena=50,zzz=50"), Catch::Contains("unknown scenario"));
  const auto churn = parse_mix("arena=60,churn=40");
  REQUIRE(churn.size() == 2);
  CHECK(churn[1].scenario == Scenario::churn);
  CHECK(churn[1].percent == 40);
  CHECK(parse_ramp("200/s", 1000) == Approx(200));
  CHECK(parse_ramp("10s", 1000) == Approx(100));
  CHECK_THROWS(parse_ramp("fast", 10));
  const auto ips = parse_source_ips("127.0.0.1-127.0.0.3,127.0.1.9");
  CHECK(ips == std::vector<std::string>{"127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.1.9"});
  CHECK_THROWS(parse_source_ips("127.0.0.9-127.0.0.1"));
  o.mix = {{Scenario::arena, 100}};
  o.thresholds = {parse_threshold("games_completed>1")};
  CHECK_THROWS_WITH(validate(o), Catch::Contains("party scenario"));
  o.thresholds = {parse_threshold("resume_p95<5s")};
  CHECK(o.thresholds[0].limit == Approx(5000));  // ms
  CHECK_THROWS_WITH(validate(o), Catch::Contains("churn scenario"));
  o.mix = {{Scenario::arena, 60}, {Scenario::churn, 40}};
  o.thresholds = {parse_threshold("resume_p95<5s"), parse_threshold("missed<=0"), parse_threshold("duplicated<1")};
  CHECK_NOTHROW(validate(o));
  o.churn_rate = 0;
  CHECK_THROWS_WITH(validate(o), Catch::Contains("--churn-rate"));
}
