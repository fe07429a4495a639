#include "mtown/store/query_worker.hpp"

namespace mtown::store {

QueryWorker::QueryWorker(std::string url, std::size_t max_jobs, int timeout_ms)
    : url_(std::move(url)), max_jobs_(max_jobs), timeout_ms_(timeout_ms), thread_([this] { run(); }) {}

QueryWorker::~QueryWorker() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  const StoreError stopped(true, "the server is shutting down");
  for (auto& [work, failed] : jobs_) failed(stopped);
}

bool QueryWorker::submit(Work work, Failed failed) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || jobs_.size() >= max_jobs_) return false;
    jobs_.emplace_back(std::move(work), std::move(failed));
  }
  wake_.notify_one();
  return true;
}

void QueryWorker::run() {
  for (;;) {
    std::pair<Work, Failed> job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    try {
      if (!db_) db_ = Database::open(url_, timeout_ms_);
      job.first(*db_);
    } catch (const StoreError& e) {
      if (e.transient()) db_.reset();
      job.second(e);
    } catch (const std::exception& e) {  // rows the API could not read (bad JSON, numbers)
      job.second(StoreError(false, e.what()));
    }
  }
}

}  // namespace mtown::store
