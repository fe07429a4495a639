#include "mtown/server/mtrec_writer.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <utility>

#include "mtown/core/log.hpp"

namespace mtown::server {
namespace {

// Buffers one game on the room's strand; the end record sends it to the writer.
class BufferingRecorder final : public core::GameRecorder {
 public:
  explicit BufferingRecorder(std::shared_ptr<MtrecWriter::Queue> queue) : queue_(std::move(queue)) {}
  void begin(const core::RecordingHeader& header) override { recording_.header = header; }
  void record(core::RecordingEntry entry) override {
    const bool end = std::holds_alternative<core::RecordedEnd>(entry);
    recording_.entries.push_back(std::move(entry));
    if (end) queue_->push(std::exchange(recording_, {}));
  }

 private:
  std::shared_ptr<MtrecWriter::Queue> queue_;
  core::Recording recording_;
};

}  // namespace

void write_mtrec_file(const std::string& path, const core::Recording& recording) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << core::to_mtrec(recording);
    if (!out.flush()) throw std::runtime_error("cannot write " + tmp + ": " + std::strerror(errno));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw std::runtime_error("cannot write " + path + ": " + ec.message());
}

void MtrecWriter::Queue::push(core::Recording r) {
  {
    std::lock_guard lock(mutex);
    if (stopping || pending.size() >= kMaxQueued) {
      core::log_warn("recording_dropped", {{"game_id", r.header.game_id}, {"reason", stopping ? "stopped" : "queue full"}});
      return;
    }
    pending.push_back(std::move(r));
  }
  wake.notify_one();
}

MtrecWriter::MtrecWriter(std::string dir) : dir_(std::move(dir)), queue_(std::make_shared<Queue>()) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) core::log_error("recording_dir_unusable", {{"dir", dir_}, {"error", ec.message()}});
  thread_ = std::thread([this] { run(); });
}

MtrecWriter::~MtrecWriter() {
  {
    std::lock_guard lock(queue_->mutex);
    queue_->stopping = true;
  }
  queue_->wake.notify_one();
  thread_.join();
}

std::shared_ptr<core::GameRecorder> MtrecWriter::recorder() { return std::make_shared<BufferingRecorder>(queue_); }

void MtrecWriter::run() {
  std::unique_lock lock(queue_->mutex);
  for (;;) {
    queue_->wake.wait(lock, [&] { return queue_->stopping || !queue_->pending.empty(); });
    if (queue_->pending.empty()) return;  // stopping, and everything is written
    auto recording = std::move(queue_->pending.front());
    queue_->pending.pop_front();
    lock.unlock();
    const auto path = (std::filesystem::path(dir_) / (recording.header.game_id + ".mtrec")).string();
    try {
      write_mtrec_file(path, recording);
      core::log_info("recording_written", {{"game_id", recording.header.game_id}, {"path", path},
                                           {"records", recording.entries.size() + 1}});
    } catch (const std::exception& e) {
      core::log_error("recording_write_failed", {{"game_id", recording.header.game_id}, {"error", e.what()}});
    }
    lock.lock();
  }
}

}  // namespace mtown::server
