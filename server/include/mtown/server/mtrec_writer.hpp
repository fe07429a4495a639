// Writes finished games as .mtrec files (recording.mtrec_dir): each game's recorder
// buffers its records in memory on the room's strand and, at the end record, hands the
// whole recording to this writer's own thread, which writes <dir>/<game_id>.mtrec. The
// room never waits on the disk; the queue is bounded (a full queue drops the recording
// and logs it).
#pragma once
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "mtown/core/recording.hpp"

namespace mtown::server {

// Writes through a temporary file and a rename, so a reader never sees half a file.
// Throws std::runtime_error naming the file when it cannot.
void write_mtrec_file(const std::string& path, const core::Recording& recording);

class MtrecWriter {
 public:
  static constexpr std::size_t kMaxQueued = 64;  // finished games waiting for the disk

  explicit MtrecWriter(std::string dir);
  ~MtrecWriter();  // writes what is queued, then stops
  MtrecWriter(const MtrecWriter&) = delete;
  MtrecWriter& operator=(const MtrecWriter&) = delete;

  // A recorder for one game. It may outlive the writer (its recording is then dropped).
  std::shared_ptr<core::GameRecorder> recorder();

  struct Queue {
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<core::Recording> pending;
    bool stopping = false;
    void push(core::Recording r);
  };

 private:
  void run();

  std::string dir_;
  std::shared_ptr<Queue> queue_;
  std::thread thread_;
};

}  // namespace mtown::server
