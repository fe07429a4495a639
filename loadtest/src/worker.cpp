#include "worker.hpp"

#include <future>

#include "scenarios.hpp"

namespace mtown::loadtest {

Worker::Worker(const Options& o, Window& w, tcp::endpoint ep) : opts(o), window(w), endpoint(std::move(ep)) {
  host_header = endpoint.address().to_string();
  if (endpoint.address().is_v6()) host_header.insert(0, 1, '[').push_back(']');
  host_header.append(":").append(std::to_string(endpoint.port()));
}

void Worker::run(Clock::time_point ramp_start) {
  ramp_start_ = ramp_start;
  // Here, not in the constructor: the ring's single issuer is the thread that opens it.
  if (opts.io_uring) ring = RecvRing::open(ioc);
  reads_through_ring.store(ring != nullptr);
  net::post(ioc, [this] { start_due(); });
  ioc.run();
}

void Worker::start_due() {
  const auto now = Clock::now();
  while (next_ < plan_.size()) {
    const auto& p = plan_[next_];
    const auto at = ramp_start_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(p.at_s));
    if (at > now) {
      ramp_timer_.expires_at(at);
      ramp_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) start_due();
      });
      return;
    }
    auto bot = make_bot(*this, p);
    p.group->members.push_back(bot);
    bots_.push_back(bot);
    ++next_;
    started.fetch_add(1, std::memory_order_relaxed);
    bot->start();
  }
}

void Worker::bot_settled(const Bot&) { settled.fetch_add(1, std::memory_order_relaxed); }

void Worker::stop_sending() {
  ramp_timer_.cancel();
  next_ = plan_.size();
  for (auto& b : bots_) b->stop_sending();
}

void Worker::finish() {
  for (auto& b : bots_) b->finish(stats);
}

void Worker::stop() {
  net::post(ioc, [this] {
    ramp_timer_.cancel();
    for (auto& b : bots_) b->close();
    guard_.reset();
    // Handlers of closed sockets complete with errors and end; the context then runs dry.
    net::post(ioc, [this] { ioc.stop(); });
  });
}

bool Worker::call(const std::function<void(Worker&)>& f, std::chrono::milliseconds timeout) {
  auto done = std::make_shared<std::promise<void>>();
  auto future = done->get_future();
  net::post(ioc, [this, f, done] {
    f(*this);
    done->set_value();
  });
  return future.wait_for(timeout) == std::future_status::ready;
}

std::shared_ptr<Bot> make_bot(Worker& w, const PlannedBot& p) {
  switch (p.scenario) {
    case Scenario::arena: return std::make_shared<ArenaBot>(w, p.index, p.group, p.slot);
    case Scenario::party: return std::make_shared<PartyBot>(w, p.index, p.group, p.slot);
    case Scenario::idle: return std::make_shared<IdleBot>(w, p.index, p.group, p.slot);
    case Scenario::churn: return std::make_shared<ChurnBot>(w, p.index, p.group, p.slot);
  }
  return nullptr;
}

}  // namespace mtown::loadtest
