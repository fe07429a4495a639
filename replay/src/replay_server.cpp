#include "mtown/replay/replay_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <mutex>
#include <vector>

#include "mtown/core/log.hpp"
#include "playback.hpp"
#include "watch_session.hpp"

namespace mtown::replay {
namespace {

using tcp = net::ip::tcp;

// Accepts connections for the one playback; each gets its own strand. Remembers its
// sessions (weakly) so a shutdown can close them.
class Acceptor : public std::enable_shared_from_this<Acceptor> {
 public:
  Acceptor(net::io_context& ioc, std::shared_ptr<Playback> playback, WatchLimits limits)
      : ioc_(ioc), acceptor_(net::make_strand(ioc)), playback_(std::move(playback)), limits_(limits) {}

  void open(const tcp::endpoint& ep) {
    acceptor_.open(ep.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen(net::socket_base::max_listen_connections);
  }
  tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

  void accept() {
    acceptor_.async_accept(net::make_strand(ioc_), [self = shared_from_this()](boost::system::error_code ec, tcp::socket s) {
      if (ec) return;  // closed at shutdown
      auto session = std::make_shared<WatchSession>(std::move(s), self->playback_, self->decoder_, self->limits_);
      {
        std::lock_guard lock(self->mutex_);
        std::erase_if(self->sessions_, [](const auto& w) { return w.expired(); });
        self->sessions_.push_back(session);
      }
      session->run();
      self->accept();
    });
  }

  // Stops accepting and closes every session; true while some are still open.
  void stop() {
    net::post(acceptor_.get_executor(), [self = shared_from_this()] {
      boost::system::error_code ignored;
      self->acceptor_.close(ignored);
    });
    std::lock_guard lock(mutex_);
    for (const auto& w : sessions_)
      if (auto s = w.lock()) s->shutdown();
  }
  bool sessions_open() {
    std::lock_guard lock(mutex_);
    std::erase_if(sessions_, [](const auto& w) { return w.expired(); });
    return !sessions_.empty();
  }

 private:
  net::io_context& ioc_;
  tcp::acceptor acceptor_;
  std::shared_ptr<Playback> playback_;
  WatchLimits limits_;
  core::ProtocolDecoder decoder_;
  std::mutex mutex_;
  std::vector<std::weak_ptr<WatchSession>> sessions_;
};

// Stops the io_context once every session is gone, or after a second.
void wait_for_sessions(net::io_context& ioc, std::shared_ptr<Acceptor> acceptor, std::shared_ptr<net::steady_timer> timer,
                       int tries_left) {
  if (!acceptor->sessions_open() || tries_left == 0) return ioc.stop();
  timer->expires_after(std::chrono::milliseconds(20));
  timer->async_wait([&ioc, acceptor, timer, tries_left](boost::system::error_code) {
    wait_for_sessions(ioc, acceptor, timer, tries_left - 1);
  });
}

}  // namespace

bool serve_recording(const core::Recording& recording, const ServeOptions& options) {
  net::io_context ioc(1);
  auto playback = std::make_shared<Playback>(ioc, recording, options.speed);
  auto acceptor = std::make_shared<Acceptor>(ioc, playback, WatchLimits{});
  try {
    boost::system::error_code ec;
    auto address = net::ip::make_address(options.host, ec);
    if (ec) {
      const auto results = tcp::resolver(ioc).resolve(options.host, "");
      if (results.empty()) throw boost::system::system_error(net::error::host_not_found);
      address = results.begin()->endpoint().address();
    }
    acceptor->open({address, options.port});
  } catch (const boost::system::system_error& e) {
    core::log_error("cannot_listen", {{"address", options.host}, {"port", options.port}, {"error", e.code().message()},
                                      {"hint", "is another server on that port? try --port 0"}});
    return false;
  }
  const auto ep = acceptor->local_endpoint();
  const std::string base = ep.address().to_string() + ":" + std::to_string(ep.port());
  core::log_info("listening", {{"address", base}, {"port", ep.port()}, {"websocket", "ws://" + base + "/ws"},
                               {"game_id", recording.header.game_id}, {"speed", options.speed}});
  acceptor->accept();
  net::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code err, int sig) {
    if (err) return;
    core::log_info("shutting_down", {{"signal", sig}});
    playback->stop();
    acceptor->stop();
    wait_for_sessions(ioc, acceptor, std::make_shared<net::steady_timer>(ioc), 50);
  });
  ioc.run();
  return true;
}

}  // namespace mtown::replay
