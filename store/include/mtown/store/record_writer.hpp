// The recording writer: games enqueue records from their room strands (never blocking);
// one thread turns them into rows and writes them in batches (by count and by time),
// retrying with backoff while the database is down. The queue is bounded: records past
// its limit are dropped, counted in mtown_recording_dropped_total and logged.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>

#include "mtown/core/metrics.hpp"
#include "mtown/store/writes.hpp"

namespace mtown::store {

struct WriterSettings {
  std::size_t batch_max_rows = 500;             // records per transaction at most
  std::chrono::milliseconds batch_max_ms{200};  // a record waits at most this long for its batch
  std::size_t queue_max_records = 100000;       // queued records at most; more are dropped
  std::chrono::milliseconds retry_initial{50};
  std::chrono::milliseconds retry_max_backoff{5000};
  int failed_batch_retries = 3;  // a batch the database refuses (not an outage) is dropped after these
};

// Exponential backoff: initial, 2x, 4x, ... capped at max; reset() after a success.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max) : initial_(initial), max_(max) {}
  std::chrono::milliseconds next();
  void reset() { failures_ = 0; }
  int failures() const { return failures_; }

 private:
  std::chrono::milliseconds initial_, max_;
  int failures_ = 0;
};

// When the writer takes a batch: the queue holds a full batch, the oldest record has
// waited batch_max_ms, or the writer is stopping (flush everything now).
bool batch_due(std::size_t queued, std::chrono::steady_clock::time_point oldest, std::chrono::steady_clock::time_point now,
               const WriterSettings& s, bool stopping);

class RecordWriter : public std::enable_shared_from_this<RecordWriter> {
 public:
  RecordWriter(std::string url, WriterSettings settings, core::MetricsRegistry& metrics);
  ~RecordWriter();
  RecordWriter(const RecordWriter&) = delete;
  RecordWriter& operator=(const RecordWriter&) = delete;

  void start();
  // Writes what is queued, retrying until flush_timeout has passed; what is still
  // unwritten then is dropped (counted, logged). Later records are dropped too.
  void stop(std::chrono::milliseconds flush_timeout);

  // A recorder for one game (GameSetup::recorder). Thread-safe, never blocks on I/O.
  std::shared_ptr<core::GameRecorder> recorder(GameMeta meta);

  struct Health {
    bool ok = true;  // false while the last write attempt failed
    std::string error;
    std::size_t queued = 0;
  };
  Health health() const;

  using Begin = GameBegin;
  struct Entry {
    std::string game_id;
    core::RecordingEntry entry;
    std::int64_t at_ms = 0;  // wall clock when recorded (a game's ended_at)
  };
  using Item = std::variant<Begin, Entry>;
  bool enqueue(Item item);  // false: dropped (queue full or stopped)

 private:
  struct GameState {
    core::RecordingHeader header;
    GameMeta meta;
    std::int64_t next_seq = 1;
  };
  void run();
  void convert(std::vector<Item>& items, Batch& batch);
  bool try_write(const Batch& batch);
  void drop(const char* reason, std::uint64_t n, const std::string& detail = {});
  void log_unlogged_drops();  // the queue_full drops the once-a-second throttle held back
  void set_health(bool ok, const std::string& error);
  void sleep_backoff(std::chrono::milliseconds d);

  const std::string url_;
  const WriterSettings settings_;
  core::Counter& records_total_;
  core::Counter& rows_written_;
  core::Counter& batches_;
  core::Counter& write_errors_;
  core::Counter& dropped_queue_full_;
  core::Counter& dropped_write_failed_;
  core::Counter& dropped_shutdown_;
  core::Gauge& queue_gauge_;
  core::Gauge& database_up_;
  core::Histogram& batch_seconds_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Item> queue_;
  std::chrono::steady_clock::time_point oldest_;
  bool stopping_ = false;  // set by stop(): no more records accepted
  std::chrono::steady_clock::time_point flush_deadline_;
  bool ok_ = true;
  std::string error_;
  std::chrono::steady_clock::time_point last_drop_log_{};
  std::uint64_t drops_since_log_ = 0;  // queue_full drops not logged yet

  // Writer thread only.
  std::unique_ptr<Database> db_;
  std::map<std::string, GameState> games_;
  Backoff backoff_;
  int refusals_ = 0;  // attempts the database refused for the current batch
  std::thread thread_;
};

}  // namespace mtown::store
