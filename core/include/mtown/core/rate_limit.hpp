// Token buckets and a per-key rate limiter (one bucket per key and action class).
// TokenBucket is pure logic: time is passed in. RateLimiter is thread-safe (sharded
// mutexes) and forgets buckets that have refilled completely, so it stays as small as
// the set of keys that acted recently.
#pragma once
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "mtown/core/config.hpp"

namespace mtown::core {

using RateClock = std::chrono::steady_clock;

// per_s tokens per second, up to burst tokens; per_s <= 0 means unlimited.
struct RateRule {
  double per_s = 0;
  double burst = 1;
  static RateRule per_minute(double n, double burst) { return {n / 60.0, burst}; }
};

class TokenBucket {
 public:
  TokenBucket(RateRule rule, RateClock::time_point now);  // starts full
  // Takes one token. 0 when taken; otherwise how long until one will be there.
  std::chrono::milliseconds try_take(RateClock::time_point now);
  // As try_take, without taking.
  std::chrono::milliseconds wait(RateClock::time_point now) const;
  bool full(RateClock::time_point now) const;  // nothing to remember for this key

 private:
  double level(RateClock::time_point now) const;
  RateRule rule_;
  double tokens_;
  RateClock::time_point last_;
};

// What a limited action is. `reconnect` is for the session-resume path; join_miss and
// guest_token are keyed by "ip:ADDRESS".
enum class ActionClass { input, chat, create_room, join_room, join_miss, reconnect, guest_token, count_ };
std::string_view action_class_name(ActionClass c);

struct RateDecision {
  bool allowed = true;
  std::chrono::milliseconds retry_after{0};  // set when refused
  explicit operator bool() const { return allowed; }
};

class RateLimiter {
  struct Shard;

 public:
  using Rules = std::array<RateRule, static_cast<std::size_t>(ActionClass::count_)>;
  using Clock = std::function<RateClock::time_point()>;

  // One key's bucket of one class, kept by a caller that takes from it on every message (a
  // connection's input rate), so that a take needs no hash lookup. It is the same bucket
  // try_take(key, cls) finds: the limiter does not forget a bucket while it is held.
  class Held {
   public:
    bool holds(std::string_view key, ActionClass cls) const { return bucket_ && cls_ == cls && key_ == key; }

   private:
    friend class RateLimiter;
    std::string key_;
    ActionClass cls_ = ActionClass::count_;
    std::shared_ptr<TokenBucket> bucket_;
    Shard* shard_ = nullptr;
  };

  explicit RateLimiter(Rules rules, Clock clock = [] { return RateClock::now(); });

  // `key` is a player id (or "ip:ADDRESS" for per-address classes).
  RateDecision try_take(std::string_view key, ActionClass cls);
  // The same, through `held`, which is looked up again only when it holds another key or class.
  RateDecision try_take(Held& held, std::string_view key, ActionClass cls);
  // Whether try_take would succeed now; takes nothing.
  RateDecision would_allow(std::string_view key, ActionClass cls) const;
  std::size_t size() const;  // buckets held

 private:
  // A bucket's key (class index + key) with its hash, computed once for the shard and the map.
  struct HashedKey {
    const std::string& text;
    std::size_t hash;
  };
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(const std::string& k) const { return std::hash<std::string>{}(k); }
    std::size_t operator()(const HashedKey& k) const { return k.hash; }
  };
  struct KeyEqual {
    using is_transparent = void;
    bool operator()(const std::string& a, const std::string& b) const { return a == b; }
    bool operator()(const HashedKey& a, const std::string& b) const { return a.text == b; }
    bool operator()(const std::string& a, const HashedKey& b) const { return a == b.text; }
  };
  struct Shard {
    mutable std::mutex mutex;
    // Shared with the Held that hold them; a sweep forgets only buckets nobody holds.
    std::unordered_map<std::string, std::shared_ptr<TokenBucket>, KeyHash, KeyEqual> buckets;
  };
  static constexpr std::size_t kShards = 16;
  static HashedKey bucket_key(std::string_view key, ActionClass cls);
  Shard& shard_of(const HashedKey& key) const { return shards_[key.hash % kShards]; }
  void maybe_sweep(RateClock::time_point now);  // counts a lookup; sweeps every so many
  void sweep(RateClock::time_point now);        // forgets full buckets nobody holds
  // The bucket of `full_key` in `shard`, created full; under the shard's mutex.
  const std::shared_ptr<TokenBucket>& find_or_add(Shard& shard, const HashedKey& full_key, ActionClass cls,
                                                  RateClock::time_point now);

  Rules rules_;
  Clock clock_;
  mutable std::array<Shard, kShards> shards_;
  std::atomic<std::size_t> ops_since_sweep_{0};
  std::atomic<std::size_t> size_after_sweep_{0};
};

// The rules of limits.* (docs/security.md); a per-minute class may spend its whole minute at once.
RateLimiter::Rules rate_rules(const ServeConfig& config);

}  // namespace mtown::core
