// Runs read queries (the HTTP API's) on a thread of its own with its own connection, so
// an io thread never waits on the database. Jobs beyond max_jobs are refused at once.
#pragma once
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "mtown/store/database.hpp"

namespace mtown::store {

class QueryWorker {
 public:
  using Work = std::function<void(Database&)>;
  using Failed = std::function<void(const StoreError&)>;

  QueryWorker(std::string url, std::size_t max_jobs, int timeout_ms);
  ~QueryWorker();  // finishes the job in hand; queued jobs get `failed`
  QueryWorker(const QueryWorker&) = delete;
  QueryWorker& operator=(const QueryWorker&) = delete;

  // Exactly one of work / failed runs later, on the worker thread. false: the queue is
  // full (or the worker stopped) and neither will run.
  bool submit(Work work, Failed failed);

 private:
  void run();

  const std::string url_;
  const std::size_t max_jobs_;
  const int timeout_ms_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::pair<Work, Failed>> jobs_;
  bool stopping_ = false;
  std::unique_ptr<Database> db_;  // worker thread only
  std::thread thread_;
};

}  // namespace mtown::store
