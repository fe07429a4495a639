#include "redis_writer.hpp"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "mtown/core/log.hpp"
#include "mtown/core/protocol.hpp"
#include "mtown/core/redis_keys.hpp"

namespace mtown::server {
namespace {

namespace keys = core::redis_keys;
using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kIdleWait{100};
constexpr long long kSweepBatch = 500;

}  // namespace

RedisWriter::RedisWriter(RedisWriterOptions options, LiveMirror& mirror, core::MetricsRegistry& metrics,
                         std::function<NodeLoad()> load)
    : options_(std::move(options)),
      mirror_(mirror),
      load_(std::move(load)),
      breaker_(options_.breaker_threshold, std::chrono::milliseconds(options_.breaker_reset_ms)),
      started_at_ms_(core::epoch_ms()),
      latency_(metrics.histogram("redis_latency_seconds", "Round trip of one pipelined batch of Redis commands",
                                 core::exponential_buckets(0.0002, 2.5, 10))),
      errors_(metrics.counter("redis_errors_total", "Failed Redis attempts (connect or I/O) and error replies")),
      commands_(metrics.counter("redis_commands_total", "Redis commands sent by the live-state writer")),
      reconnects_(metrics.counter("redis_reconnects_total", "Reconnections after which the node rewrote its rooms")),
      dropped_events_(metrics.counter("redis_events_dropped_total", "Pub/sub events dropped while Redis was behind")),
      dropped_updates_(metrics.counter("redis_updates_dropped_total",
                                       "Owed deletions and rate-limit counts dropped at their caps while Redis was unreachable")),
      breaker_gauge_(metrics.gauge("redis_breaker_state", "Redis circuit breaker: 0 closed, 1 half-open, 2 open")) {}

RedisWriter::~RedisWriter() { stop(); }

void RedisWriter::start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
}

void RedisWriter::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RedisWriter::wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wake_.notify_one();
}

std::string RedisWriter::health_problem() const {
  const auto s = breaker_.state();
  if (s == core::CircuitBreaker::State::closed) return "";
  return "redis: circuit breaker " + std::string(core::breaker_state_name(s)) +
         " (writes paused; rooms run from memory and are rewritten when Redis answers)";
}

void RedisWriter::run() {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, kIdleWait, [this] { return stopping_ || woken_; });
      woken_ = false;
      if (stopping_) break;
    }
    round(Clock::now());
  }
  goodbye();
}

void RedisWriter::round(Clock::time_point now) {
  breaker_gauge_.set(static_cast<double>(breaker_.state()));
  count_drops();
  if (now < next_attempt_ || !breaker_.allow(now)) return;
  if (!client_.connected() && !connect()) return;
  // The node hash follows its room and player counts at once, not only at the heartbeat.
  const bool beat = now >= next_heartbeat_;
  const auto counts = std::make_pair(mirror_.room_count(), mirror_.player_count());
  std::vector<LiveMirror::Command> extra;
  if (beat || counts != reported_counts_) {
    extra = heartbeat_commands(beat);
    reported_counts_ = counts;
  }
  if (beat) next_heartbeat_ = now + std::chrono::milliseconds(options_.key_ttl_s * 1000 / 3);
  if (extra.empty() && !mirror_.dirty()) return;
  if (flush(std::move(extra), true) && beat) sweep();
  breaker_gauge_.set(static_cast<double>(breaker_.state()));
}

bool RedisWriter::connect() {
  if (auto err = client_.connect(options_.url, std::chrono::milliseconds(options_.timeout_ms))) {
    on_failure("connect: " + err->message);
    return false;
  }
  if (ever_connected_) {
    reconnects_.inc();
    core::log_info("redis_reconnected", {{"node", mirror_.node_id()}, {"rooms", mirror_.room_count()}});
  }
  ever_connected_ = true;
  // Redis may have restarted empty, or expired our keys while we could not reach it.
  mirror_.mark_all_dirty();
  next_heartbeat_ = Clock::now();
  sweep();
  return client_.connected();
}

bool RedisWriter::flush(std::vector<LiveMirror::Command> extra, bool keep_on_failure) {
  auto batch = mirror_.take();
  for (auto& c : extra) batch.commands.push_back(std::move(c));
  count_drops();
  if (batch.empty()) return true;
  std::vector<core::RedisReply> replies;
  const auto t0 = Clock::now();
  if (!client_.pipeline(batch.commands, replies)) {
    if (keep_on_failure) mirror_.failed(std::move(batch));
    on_failure(client_.last_error().message);
    return false;
  }
  latency_.observe(std::chrono::duration<double>(Clock::now() - t0).count());
  commands_.inc(batch.commands.size());
  for (std::size_t i = 0; i < replies.size(); ++i)
    if (replies[i].is_error()) {
      errors_.inc();
      core::log_warn("redis_command_refused", {{"command", batch.commands[i][0]},
                                               {"key", batch.commands[i].size() > 1 ? batch.commands[i][1] : ""},
                                               {"error", replies[i].str}});
    }
  if (breaker_.state() != core::CircuitBreaker::State::closed)
    core::log_info("redis_breaker_closed", {{"node", mirror_.node_id()}});
  breaker_.on_success();
  attempt_ = 0;
  return true;
}

void RedisWriter::count_drops() {
  if (const auto dropped = mirror_.dropped_events(); dropped > dropped_seen_) {
    dropped_events_.inc(dropped - dropped_seen_);
    dropped_seen_ = dropped;
  }
  if (const auto dropped = mirror_.dropped_updates(); dropped > dropped_updates_seen_) {
    dropped_updates_.inc(dropped - dropped_updates_seen_);
    dropped_updates_seen_ = dropped;
  }
}

void RedisWriter::on_failure(const std::string& what) {
  const auto now = Clock::now();
  const auto before = breaker_.state();
  errors_.inc();
  client_.close();
  ++attempt_;
  breaker_.on_failure(now);
  const auto after = breaker_.state();
  if (after == core::CircuitBreaker::State::open) {
    next_attempt_ = breaker_.reopens_at();
  } else {
    next_attempt_ = now + core::retry_backoff(attempt_, static_cast<int>(jitter_() % 101));
  }
  if (attempt_ == 1 || after != before)
    core::log_warn("redis_unavailable", {{"error", what}, {"attempt", attempt_},
                                         {"breaker", core::breaker_state_name(after)},
                                         {"hint", "rooms keep running from memory; check redis.url and that Redis is up"}});
  breaker_gauge_.set(static_cast<double>(after));
}

std::vector<LiveMirror::Command> RedisWriter::heartbeat_commands(bool with_ttls) {
  const auto load = load_ ? load_() : NodeLoad{};
  const auto rooms = mirror_.room_count();
  const double used = load.max_rooms > 0 ? static_cast<double>(rooms) / load.max_rooms : 0.0;
  const std::string id = mirror_.node_id();
  const nlohmann::json node{{"id", id},
                            {"address", options_.address},
                            {"version", MTOWN_VERSION},
                            {"pid", static_cast<int>(::getpid())},
                            {"started_at_ms", started_at_ms_},
                            {"heartbeat_at_ms", core::epoch_ms()},
                            {"rooms", rooms},
                            {"players", mirror_.player_count()},
                            {"connections", load.connections},
                            {"max_connections", load.max_connections},
                            {"max_rooms", load.max_rooms},
                            {"load", used}};
  std::vector<LiveMirror::Command> out;
  LiveMirror::Command hset{"HSET", keys::node(id)};
  for (const auto& [k, v] : node.items()) {
    hset.push_back(k);
    hset.push_back(v.is_string() ? v.get<std::string>() : v.dump());
  }
  out.push_back(std::move(hset));
  out.push_back({"EXPIRE", keys::node(id), std::to_string(options_.key_ttl_s)});
  if (!with_ttls) return out;
  out.push_back({"PUBLISH", std::string(keys::kSystemHealth), node.dump()});
  for (auto& c : mirror_.refresh_ttls()) out.push_back(std::move(c));
  return out;
}

// rooms:active members whose room:{code} hash has expired (their node died), and rooms an
// earlier run of this node left behind, are removed so the index lists open rooms only.
void RedisWriter::sweep() {
  std::string cursor = "0";
  std::size_t removed = 0;
  do {
    const auto page = client_.command({"SSCAN", std::string(keys::kRoomsActive), cursor, "COUNT", std::to_string(kSweepBatch)});
    if (!page) return on_failure(client_.last_error().message);
    if (page->type != core::RedisReply::Type::array || page->elements.size() != 2) return;
    cursor = page->elements[0].str;
    std::vector<LiveMirror::Command> reads;
    std::vector<std::string> codes;
    for (const auto& e : page->elements[1].elements) {
      codes.push_back(e.str);
      reads.push_back({"HGET", keys::room(e.str), "node"});
    }
    std::vector<core::RedisReply> owners;
    if (!reads.empty() && !client_.pipeline(reads, owners)) return on_failure(client_.last_error().message);
    std::vector<LiveMirror::Command> fixes;
    for (std::size_t i = 0; i < owners.size(); ++i) {
      const auto& code = codes[i];
      const bool orphan = owners[i].is_nil() || (owners[i].str == mirror_.node_id());
      if (!orphan || mirror_.owns(code)) continue;
      fixes.push_back({"DEL", keys::room(code), keys::game_state(code), keys::votes_elimination(code), keys::votes_final(code)});
      fixes.push_back({"SREM", std::string(keys::kRoomsActive), code});
      ++removed;
    }
    std::vector<core::RedisReply> ignored;
    if (!fixes.empty() && !client_.pipeline(fixes, ignored)) return on_failure(client_.last_error().message);
  } while (cursor != "0");
  if (removed > 0) core::log_info("redis_swept_orphan_rooms", {{"removed", removed}});
}

void RedisWriter::goodbye() {
  if (!breaker_.allow(Clock::now())) return;
  if (!client_.connected() && client_.connect(options_.url, std::chrono::milliseconds(options_.timeout_ms))) return;
  flush({{"DEL", keys::node(mirror_.node_id())}}, false);
  client_.close();
}

}  // namespace mtown::server
