// Token buckets and the rate limiter, on an injected clock.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "mtown/core/rate_limit.hpp"

using namespace mtown::core;
using namespace std::chrono_literals;

TEST_CASE("token bucket: burst, refill, retry_after", "[rate]") {
  const auto t0 = RateClock::time_point{} + 1h;
  TokenBucket b(RateRule{2.0, 3.0}, t0);  // 2 per second, burst 3
  CHECK(b.full(t0));
  for (int i = 0; i < 3; ++i) CHECK(b.try_take(t0) == 0ms);
  CHECK_FALSE(b.full(t0));
  CHECK(b.try_take(t0) == 500ms);  // one token takes half a second at 2/s
  CHECK(b.wait(t0 + 400ms) == 100ms);
  CHECK(b.try_take(t0 + 500ms) == 0ms);
  CHECK(b.try_take(t0 + 500ms) == 500ms);
  CHECK(b.try_take(t0 + 1500ms) == 0ms);  // 2 tokens back, one taken
  CHECK(b.try_take(t0 + 1500ms) == 0ms);
  CHECK(b.try_take(t0 + 1500ms) == 500ms);
  CHECK(b.full(t0 + 10s));                 // never more than the burst
  for (int i = 0; i < 3; ++i) CHECK(b.try_take(t0 + 10s) == 0ms);
  CHECK(b.try_take(t0 + 10s) > 0ms);
  CHECK(b.try_take(t0 + 5s) > 0ms);  // a clock going back refills nothing
}

TEST_CASE("token bucket: per minute rules and unlimited", "[rate]") {
  const auto t0 = RateClock::time_point{} + 1h;
  TokenBucket chat(RateRule::per_minute(10, 10), t0);
  for (int i = 0; i < 10; ++i) CHECK(chat.try_take(t0) == 0ms);
  CHECK(chat.try_take(t0) == 6000ms);
  CHECK(chat.try_take(t0 + 6s) == 0ms);
  TokenBucket unlimited(RateRule{0, 1}, t0);
  for (int i = 0; i < 1000; ++i) CHECK(unlimited.try_take(t0) == 0ms);
  CHECK(unlimited.full(t0));
}

TEST_CASE("rate limiter: per key and class, reconnect class, forgetting full buckets", "[rate]") {
  auto now = RateClock::time_point{} + 1h;
  RateLimiter::Rules rules{};
  rules[static_cast<std::size_t>(ActionClass::chat)] = RateRule::per_minute(10, 10);
  rules[static_cast<std::size_t>(ActionClass::reconnect)] = RateRule::per_minute(5, 5);
  RateLimiter limiter(rules, [&now] { return now; });

  for (int i = 0; i < 5; ++i) CHECK(limiter.try_take("p_a", ActionClass::reconnect));
  const auto refused = limiter.try_take("p_a", ActionClass::reconnect);
  CHECK_FALSE(refused);
  CHECK(refused.retry_after == 12000ms);
  CHECK_FALSE(limiter.would_allow("p_a", ActionClass::reconnect));
  CHECK(limiter.try_take("p_b", ActionClass::reconnect));  // keys are independent
  CHECK(limiter.try_take("p_a", ActionClass::chat));       // and so are classes
  CHECK(limiter.try_take("p_a", ActionClass::input));      // no rule: unlimited
  CHECK(limiter.would_allow("p_new", ActionClass::chat));  // nothing recorded, nothing created
  const auto held = limiter.size();
  CHECK(held == 3);

  now += 12s;
  CHECK(limiter.try_take("p_a", ActionClass::reconnect));
  for (int i = 0; i < 500; ++i) limiter.try_take("old" + std::to_string(i), ActionClass::chat);
  CHECK(limiter.size() == 503);
  now += 10min;  // every bucket has refilled: the next sweep forgets them all
  for (int i = 0; i < 2000; ++i) {
    now += 7s;  // one chat per 7 s stays under 10 per minute
    CHECK(limiter.try_take("hot", ActionClass::chat));
  }
  CHECK(limiter.size() == 1);
}

TEST_CASE("rate limiter: rules from config", "[rate]") {
  ServeConfig c;
  c.input_per_s = 60;
  c.input_burst = 30;
  c.chat_per_min = 10;
  const auto r = rate_rules(c);
  CHECK(r[static_cast<std::size_t>(ActionClass::input)].per_s == 60);
  CHECK(r[static_cast<std::size_t>(ActionClass::input)].burst == 30);
  CHECK(r[static_cast<std::size_t>(ActionClass::chat)].burst == 10);
  CHECK(r[static_cast<std::size_t>(ActionClass::chat)].per_s == Approx(10.0 / 60));
}

TEST_CASE("rate limiter: concurrent takes never exceed the burst", "[rate]") {
  const auto t0 = RateClock::time_point{} + 1h;  // a clock that stands still: no refill
  RateLimiter::Rules rules{};
  rules[static_cast<std::size_t>(ActionClass::chat)] = RateRule::per_minute(100, 100);
  RateLimiter limiter(rules, [t0] { return t0; });
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) {
        if (limiter.try_take("shared", ActionClass::chat)) ++allowed;
        limiter.try_take("own" + std::to_string(t), ActionClass::chat);
      }
    });
  for (auto& th : threads) th.join();
  CHECK(allowed == 100);
  CHECK(limiter.size() == 5);
}

TEST_CASE("rate limiter: a held bucket is the key's bucket, kept while held", "[rate]") {
  auto now = RateClock::time_point{} + 1h;
  RateLimiter::Rules rules{};
  rules[static_cast<std::size_t>(ActionClass::input)] = RateRule{10, 3};
  rules[static_cast<std::size_t>(ActionClass::chat)] = RateRule::per_minute(10, 10);
  RateLimiter limiter(rules, [&now] { return now; });

  RateLimiter::Held held;
  CHECK_FALSE(held.holds("p_a", ActionClass::input));
  CHECK(limiter.try_take(held, "p_a", ActionClass::input));
  CHECK(held.holds("p_a", ActionClass::input));
  CHECK(limiter.try_take("p_a", ActionClass::input));        // the same bucket, by key
  CHECK(limiter.try_take(held, "p_a", ActionClass::input));  // the burst of 3 is spent
  const auto refused = limiter.try_take("p_a", ActionClass::input);
  CHECK_FALSE(refused);
  CHECK(refused.retry_after == 100ms);
  CHECK_FALSE(limiter.try_take(held, "p_a", ActionClass::input));
  CHECK(limiter.size() == 1);

  // Another key (a player who authenticated as someone else) is looked up afresh.
  CHECK(limiter.try_take(held, "p_b", ActionClass::input));
  CHECK(held.holds("p_b", ActionClass::input));
  CHECK_FALSE(held.holds("p_a", ActionClass::input));
  CHECK(limiter.size() == 2);

  // Refilled buckets are forgotten at a sweep, except the held one.
  now += 1min;
  for (int i = 0; i < 2000; ++i) {
    now += 7s;
    CHECK(limiter.try_take("hot", ActionClass::chat));
  }
  CHECK(limiter.size() == 2);  // "hot" and the held p_b
  CHECK(limiter.would_allow("p_b", ActionClass::input));
  {
    RateLimiter::Held other;  // a second holder of p_b shares the bucket
    CHECK(limiter.try_take(other, "p_b", ActionClass::input));
    CHECK(limiter.try_take(held, "p_b", ActionClass::input));
    CHECK(limiter.try_take(other, "p_b", ActionClass::input));
    CHECK_FALSE(limiter.try_take(held, "p_b", ActionClass::input));
  }
  held = RateLimiter::Held{};  // let go: the next sweep may forget it once full
  now += 1min;
  for (int i = 0; i < 2000; ++i) {
    now += 7s;
    CHECK(limiter.try_take("hot", ActionClass::chat));
  }
  CHECK(limiter.size() == 1);
}

TEST_CASE("rate limiter: lookups through a held bucket count toward the sweep", "[rate]") {
  auto now = RateClock::time_point{} + 1h;
  RateLimiter::Rules rules{};
  rules[static_cast<std::size_t>(ActionClass::input)] = RateRule{10, 3};
  RateLimiter limiter(rules, [&now] { return now; });
  // One connection after another takes its player's bucket; each is full again a second
  // later and let go, so a sweep may forget it. Nothing else calls try_take.
  RateLimiter::Held held;
  for (int i = 0; i < 3000; ++i) {
    now += 1s;
    CHECK(limiter.try_take(held, "p_" + std::to_string(i), ActionClass::input));
  }
  CHECK(limiter.size() < 2000);
}
