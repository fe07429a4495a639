#include "mtown/core/rate_limit.hpp"

#include <algorithm>
#include <cmath>

namespace mtown::core {
namespace {

// Rates such as 10 per minute are not exact in binary: without a little slack, a token
// due after exactly 6 s would come back as 0.9999999.
constexpr double kSlack = 1e-9;

// A bucket's wait as the limiter's answer: allowed when there is nothing to wait for.
RateDecision decided(std::chrono::milliseconds wait) {
  if (wait.count() == 0) return {};
  return {false, wait};
}

}  // namespace

TokenBucket::TokenBucket(RateRule rule, RateClock::time_point now) : rule_(rule), tokens_(rule.burst), last_(now) {}

double TokenBucket::level(RateClock::time_point now) const {
  // A clock that goes back (it should not) refills nothing rather than draining.
  const double elapsed_s = std::max(0.0, std::chrono::duration<double>(now - last_).count());
  return std::min(rule_.burst, tokens_ + elapsed_s * rule_.per_s);
}

std::chrono::milliseconds TokenBucket::try_take(RateClock::time_point now) {
  const auto w = wait(now);
  if (w.count() > 0 || rule_.per_s <= 0) return w;
  tokens_ = std::max(0.0, level(now) - 1.0);
  last_ = std::max(last_, now);
  return w;
}

std::chrono::milliseconds TokenBucket::wait(RateClock::time_point now) const {
  const double tokens = level(now);
  if (rule_.per_s <= 0 || tokens + kSlack >= 1.0) return std::chrono::milliseconds(0);
  const double wait_ms = std::ceil((1.0 - tokens) / rule_.per_s * 1000.0 - 1e-6);
  return std::chrono::milliseconds(std::max<std::int64_t>(1, static_cast<std::int64_t>(wait_ms)));
}

bool TokenBucket::full(RateClock::time_point now) const {
  return rule_.per_s <= 0 || level(now) + kSlack >= rule_.burst;
}

std::string_view action_class_name(ActionClass c) {
  switch (c) {
    case ActionClass::input: return "input";
    case ActionClass::chat: return "chat";
    case ActionClass::create_room: return "create_room";
    case ActionClass::join_room: return "join_room";
    case ActionClass::join_miss: return "join_miss";
    case ActionClass::reconnect: return "reconnect";
    case ActionClass::guest_token: return "guest_token";
    case ActionClass::count_: break;
  }
  return "?";
}

RateLimiter::RateLimiter(Rules rules, Clock clock) : rules_(rules), clock_(std::move(clock)) {}

RateLimiter::HashedKey RateLimiter::bucket_key(std::string_view key, ActionClass cls) {
  // One buffer per thread, valid until its next call: finding a bucket allocates nothing.
  thread_local std::string out;
  out.assign(1, static_cast<char>('a' + static_cast<int>(cls)));
  out.append(key);
  return {out, std::hash<std::string>{}(out)};
}

const std::shared_ptr<TokenBucket>& RateLimiter::find_or_add(Shard& shard, const HashedKey& full_key, ActionClass cls,
                                                             RateClock::time_point now) {
  auto it = shard.buckets.find(full_key);
  if (it == shard.buckets.end())
    it = shard.buckets.try_emplace(full_key.text, std::make_shared<TokenBucket>(rules_[static_cast<std::size_t>(cls)], now))
             .first;
  return it->second;
}

RateDecision RateLimiter::try_take(std::string_view key, ActionClass cls) {
  const auto& rule = rules_[static_cast<std::size_t>(cls)];
  if (rule.per_s <= 0) return {};
  const auto full_key = bucket_key(key, cls);
  auto& shard = shard_of(full_key);
  const auto now = clock_();
  maybe_sweep(now);
  std::lock_guard lock(shard.mutex);
  return decided(find_or_add(shard, full_key, cls, now)->try_take(now));
}

RateDecision RateLimiter::try_take(Held& held, std::string_view key, ActionClass cls) {
  if (rules_[static_cast<std::size_t>(cls)].per_s <= 0) return {};
  const auto now = clock_();
  if (!held.holds(key, cls)) {  // a lookup that may add a bucket, as try_take's
    maybe_sweep(now);
    const auto full_key = bucket_key(key, cls);
    held.shard_ = &shard_of(full_key);
    std::lock_guard lock(held.shard_->mutex);
    held.bucket_ = find_or_add(*held.shard_, full_key, cls, now);
    held.key_.assign(key);
    held.cls_ = cls;
  }
  std::lock_guard lock(held.shard_->mutex);
  return decided(held.bucket_->try_take(now));
}

void RateLimiter::maybe_sweep(RateClock::time_point now) {
  // Amortized O(1): a sweep over n buckets happens at most once per n (and 1024) lookups.
  if (ops_since_sweep_.fetch_add(1) + 1 > std::max<std::size_t>(1024, size_after_sweep_.load())) sweep(now);
}

void RateLimiter::sweep(RateClock::time_point now) {
  ops_since_sweep_ = 0;
  std::size_t left = 0;
  for (auto& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    std::erase_if(shard.buckets, [now](const auto& kv) { return kv.second.use_count() == 1 && kv.second->full(now); });
    left += shard.buckets.size();
  }
  size_after_sweep_ = left;
}

RateDecision RateLimiter::would_allow(std::string_view key, ActionClass cls) const {
  if (rules_[static_cast<std::size_t>(cls)].per_s <= 0) return {};
  const auto full_key = bucket_key(key, cls);
  auto& shard = shard_of(full_key);
  const auto now = clock_();
  std::lock_guard lock(shard.mutex);
  const auto it = shard.buckets.find(full_key);
  if (it == shard.buckets.end()) return {};
  return decided(it->second->wait(now));
}

std::size_t RateLimiter::size() const {
  std::size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s.mutex);
    n += s.buckets.size();
  }
  return n;
}

RateLimiter::Rules rate_rules(const ServeConfig& c) {
  RateLimiter::Rules r{};
  const auto per_min = [](int n) { return RateRule::per_minute(n, n); };
  r[static_cast<std::size_t>(ActionClass::input)] = {static_cast<double>(c.input_per_s), static_cast<double>(c.input_burst)};
  r[static_cast<std::size_t>(ActionClass::chat)] = per_min(c.chat_per_min);
  r[static_cast<std::size_t>(ActionClass::create_room)] = per_min(c.rooms_per_min);
  r[static_cast<std::size_t>(ActionClass::join_room)] = per_min(c.joins_per_min);
  r[static_cast<std::size_t>(ActionClass::join_miss)] = per_min(c.join_misses_per_min);
  r[static_cast<std::size_t>(ActionClass::reconnect)] = per_min(c.reconnects_per_min);
  r[static_cast<std::size_t>(ActionClass::guest_token)] = per_min(c.guest_tokens_per_min);
  return r;
}

}  // namespace mtown::core
