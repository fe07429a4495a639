// The one playback behind `mtown replay --serve`: re-runs the recording on its own strand
// at `speed` times real time and broadcasts what the live room broadcast (a state message
// per step, then game_over) to every watcher. The clock starts with the first watcher;
// a later watcher gets the current snapshot in its game_started, like a resume.
#pragma once
#include <chrono>
#include <memory>
#include <unordered_map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "mtown/core/protocol.hpp"
#include "mtown/core/recording.hpp"
#include "mtown/replay/replayer.hpp"
#include "mtown/server/game_runner.hpp"

namespace mtown::replay {

namespace net = boost::asio;

// A connection as the playback sees it; deliver() hops to the connection's own strand.
class Watcher {
 public:
  virtual ~Watcher() = default;
  virtual void deliver(const core::SharedMessage& message) = 0;
};

class Playback : public std::enable_shared_from_this<Playback> {
 public:
  // Steps run back to back before the strand is given up, at very high speeds.
  static constexpr int kMaxStepsPerWake = 2000;

  Playback(net::io_context& ioc, const core::Recording& recording, double speed);

  // Any thread; each posts to the playback's strand.
  void join(std::shared_ptr<Watcher> watcher);
  void leave(const Watcher* watcher);
  void stop();

 private:
  void do_join(const std::shared_ptr<Watcher>& watcher);
  void schedule();
  void on_timer();
  void finish();
  void broadcast(const core::SharedMessage& message);
  core::SharedMessage room_state() const;
  std::chrono::steady_clock::time_point due(core::Tick tick) const;

  net::strand<net::io_context::executor_type> strand_;
  server::GameSetup setup_;
  Replayer replayer_;
  double speed_;
  net::steady_timer timer_;
  std::chrono::steady_clock::time_point started_at_;
  bool started_ = false;
  bool finished_ = false;
  bool stopped_ = false;
  std::unordered_map<const Watcher*, std::weak_ptr<Watcher>> watchers_;
  core::SharedMessage game_over_;  // once finished (completed games only)
};

}  // namespace mtown::replay
