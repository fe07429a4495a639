// Concurrency: enqueue() and health() take mutex_ from any thread (room strands, the
// HTTP thread); everything else runs on the writer thread, which holds mutex_ only to
// take a batch off the queue, never while talking to the database.
#include "mtown/store/record_writer.hpp"

#include <utility>

#include "mtown/core/log.hpp"
#include "mtown/core/protocol.hpp"

namespace mtown::store {
namespace {

using std::chrono::steady_clock;

class WriterRecorder final : public core::GameRecorder {
 public:
  WriterRecorder(std::shared_ptr<RecordWriter> writer, GameMeta meta) : writer_(std::move(writer)), meta_(std::move(meta)) {}
  void begin(const core::RecordingHeader& header) override {
    game_id_ = header.game_id;
    writer_->enqueue(RecordWriter::Begin{header, meta_});
  }
  void record(core::RecordingEntry entry) override {
    writer_->enqueue(RecordWriter::Entry{game_id_, std::move(entry), core::epoch_ms()});
  }

 private:
  std::shared_ptr<RecordWriter> writer_;
  GameMeta meta_;
  std::string game_id_;
};

core::Counter& dropped(core::MetricsRegistry& m, const char* reason) {
  return m.counter("mtown_recording_dropped_total",
                   "records never written: queue_full (past recording.queue_max_records), write_failed "
                   "(refused by the database after retries), shutdown (unwritten at the flush deadline)",
                   {{"reason", reason}});
}

void log_dropped(const char* reason, std::uint64_t records, const std::string& detail, std::size_t limit) {
  core::log_error("recording_dropped", {{"reason", reason}, {"records", records}, {"detail", detail}, {"limit", limit}});
}

}  // namespace

std::chrono::milliseconds Backoff::next() {
  auto d = initial_;
  for (int i = 0; i < failures_ && d < max_; ++i) d *= 2;
  ++failures_;
  return std::min(d, max_);
}

bool batch_due(std::size_t queued, steady_clock::time_point oldest, steady_clock::time_point now, const WriterSettings& s,
               bool stopping) {
  if (queued == 0) return false;
  return stopping || queued >= s.batch_max_rows || now - oldest >= s.batch_max_ms;
}

RecordWriter::RecordWriter(std::string url, WriterSettings settings, core::MetricsRegistry& m)
    : url_(std::move(url)),
      settings_(settings),
      records_total_(m.counter("mtown_recording_records_total", "records games handed to the recorder")),
      rows_written_(m.counter("mtown_recording_rows_written_total", "rows committed (games, events, results)")),
      batches_(m.counter("mtown_recording_batches_total", "transactions committed by the recording writer")),
      write_errors_(m.counter("mtown_recording_write_errors_total", "failed write attempts (each is retried)")),
      dropped_queue_full_(dropped(m, "queue_full")),
      dropped_write_failed_(dropped(m, "write_failed")),
      dropped_shutdown_(dropped(m, "shutdown")),
      queue_gauge_(m.gauge("mtown_recording_queue_records", "records waiting for the writer")),
      database_up_(m.gauge("mtown_recording_database_up", "1 while the last write succeeded, 0 during an outage")),
      batch_seconds_(m.histogram("mtown_recording_batch_seconds", "time to write one batch",
                                 core::exponential_buckets(0.0005, 2, 14))),
      backoff_(settings.retry_initial, settings.retry_max_backoff) {
  database_up_.set(1);
}

RecordWriter::~RecordWriter() { stop(std::chrono::milliseconds(0)); }

void RecordWriter::start() { thread_ = std::thread([this] { run(); }); }

void RecordWriter::stop(std::chrono::milliseconds flush_timeout) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    flush_deadline_ = steady_clock::now() + flush_timeout;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  log_unlogged_drops();
}

std::shared_ptr<core::GameRecorder> RecordWriter::recorder(GameMeta meta) {
  return std::make_shared<WriterRecorder>(shared_from_this(), std::move(meta));
}

bool RecordWriter::enqueue(Item item) {
  bool stopped;
  {
    std::unique_lock lock(mutex_);
    stopped = stopping_;
    if (!stopping_ && queue_.size() < settings_.queue_max_records) {
      if (queue_.empty()) oldest_ = steady_clock::now();
      queue_.push_back(std::move(item));
      records_total_.inc();
      const bool wake = queue_.size() == 1 || queue_.size() == settings_.batch_max_rows;
      lock.unlock();
      if (wake) wake_.notify_one();
      return true;
    }
  }
  drop(stopped ? "shutdown" : "queue_full", 1);
  return false;
}

RecordWriter::Health RecordWriter::health() const {
  std::lock_guard lock(mutex_);
  return {ok_, error_, queue_.size()};
}

void RecordWriter::drop(const char* reason, std::uint64_t n, const std::string& detail) {
  const std::string_view r = reason;
  (r == "queue_full" ? dropped_queue_full_ : r == "shutdown" ? dropped_shutdown_ : dropped_write_failed_).inc(n);
  // queue_full is logged at once, then at most once a second with the count since (a
  // full queue drops every record of every game); what the throttle holds back is logged
  // when the queue drains and at stop(). Other reasons are logged every time.
  std::uint64_t count = n;
  if (r == "queue_full") {
    std::unique_lock lock(mutex_);
    drops_since_log_ += n;
    const auto now = steady_clock::now();
    if (now - last_drop_log_ < std::chrono::seconds(1)) return;
    last_drop_log_ = now;
    count = std::exchange(drops_since_log_, 0);
  }
  log_dropped(reason, count, detail, settings_.queue_max_records);
}

void RecordWriter::log_unlogged_drops() {
  std::unique_lock lock(mutex_);
  const auto count = std::exchange(drops_since_log_, 0);
  if (count == 0) return;
  last_drop_log_ = steady_clock::now();
  lock.unlock();
  log_dropped("queue_full", count, "", settings_.queue_max_records);
}

void RecordWriter::set_health(bool ok, const std::string& error) {
  bool changed;
  {
    std::lock_guard lock(mutex_);
    changed = ok_ != ok;
    ok_ = ok;
    error_ = error;
  }
  database_up_.set(ok ? 1 : 0);
  if (changed && !ok) core::log_error("recording_database_down", {{"error", error}});
  if (changed && ok) core::log_info("recording_database_up", {});
}

void RecordWriter::run() {
  Batch batch;
  for (;;) {
    if (batch.empty()) {
      std::vector<Item> items;
      bool drained;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return !queue_.empty() || stopping_; });
        if (queue_.empty()) return;  // stopping, nothing left
        wake_.wait_until(lock, oldest_ + settings_.batch_max_ms,
                         [&] { return batch_due(queue_.size(), oldest_, steady_clock::now(), settings_, stopping_); });
        const auto n = std::min(queue_.size(), settings_.batch_max_rows);
        items.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.begin() + n));
        queue_.erase(queue_.begin(), queue_.begin() + n);
        oldest_ = steady_clock::now();
        queue_gauge_.set(static_cast<double>(queue_.size()));
        drained = queue_.empty();
      }
      if (drained) log_unlogged_drops();
      convert(items, batch);
      if (batch.empty()) continue;
    }
    if (try_write(batch)) {
      batch = {};
      continue;
    }
    std::unique_lock lock(mutex_);
    if (stopping_ && steady_clock::now() >= flush_deadline_) {
      const auto left = batch.rows() + queue_.size();
      queue_.clear();
      lock.unlock();
      drop("shutdown", left, "the database was unavailable at the shutdown flush deadline");
      return;
    }
    lock.unlock();
    sleep_backoff(backoff_.next());
  }
}

void RecordWriter::sleep_backoff(std::chrono::milliseconds d) {
  std::unique_lock lock(mutex_);
  const bool was_stopping = stopping_;
  // While stopping, never sleep past the flush deadline; stop() itself wakes us once so
  // the flush starts with a fresh attempt.
  const auto until = was_stopping ? std::min(steady_clock::now() + d, flush_deadline_) : steady_clock::now() + d;
  wake_.wait_until(lock, until, [&] { return stopping_ != was_stopping; });
}

void RecordWriter::convert(std::vector<Item>& items, Batch& batch) {
  for (auto& item : items) {
    if (auto* b = std::get_if<Begin>(&item)) {
      games_[b->header.game_id] = GameState{b->header, b->meta, 1};
      batch.begins.push_back(std::move(*b));
      continue;
    }
    auto& e = std::get<Entry>(item);
    const auto it = games_.find(e.game_id);
    if (it == games_.end()) {  // its begin was dropped: the rows could not name their game
      drop("write_failed", 1, "game " + e.game_id + " has no games row (its first record was dropped)");
      continue;
    }
    for (auto& row : entry_to_rows(e.game_id, e.entry, it->second.header.seats, it->second.next_seq))
      batch.events.push_back(std::move(row));
    if (auto* end = std::get_if<core::RecordedEnd>(&e.entry)) {
      batch.finishes.push_back({std::move(it->second.header), std::move(it->second.meta), end->status, e.at_ms,
                                std::move(end->result)});
      games_.erase(it);
    }
  }
}

bool RecordWriter::try_write(const Batch& batch) {
  const auto t0 = steady_clock::now();
  try {
    if (!db_) db_ = Database::open(url_);
    write_batch(*db_, batch);
  } catch (const StoreError& e) {
    write_errors_.inc();
    if (e.transient()) {
      db_.reset();  // reconnect on the next attempt
      set_health(false, e.what());
      return false;
    }
    if (refusals_++ < settings_.failed_batch_retries) {
      core::log_warn("recording_write_failed", {{"error", e.what()}, {"rows", batch.rows()}});
      return false;
    }
    drop("write_failed", batch.rows(), e.what());
    backoff_.reset();
    refusals_ = 0;
    return true;
  }
  batch_seconds_.observe(std::chrono::duration<double>(steady_clock::now() - t0).count());
  rows_written_.inc(batch.rows());
  batches_.inc();
  backoff_.reset();
  refusals_ = 0;
  set_health(true, {});
  bool completed = false;
  for (const auto& f : batch.finishes) completed |= f.status == "completed";
  if (completed) {
    try {
      refresh_leaderboard(*db_);
    } catch (const StoreError& e) {
      core::log_warn("leaderboard_refresh_failed", {{"error", e.what()}});
    }
  }
  return true;
}

}  // namespace mtown::store
