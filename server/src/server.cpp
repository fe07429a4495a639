#include "mtown/server/server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fstream>
#include <iterator>
#include <optional>
#include <thread>
#include <vector>

#include "mtown/core/auth.hpp"
#include "mtown/core/log.hpp"
#include "mtown/games/registry.hpp"
#include "mtown/server/listener.hpp"
#include "mtown/server/server_context.hpp"
#include "mtown/server/ws_session.hpp"

namespace mtown::server {
namespace {

using tcp = net::ip::tcp;

std::string url_host(const tcp::endpoint& ep) {
  return ep.address().is_v6() ? "[" + ep.address().to_string() + "]" : ep.address().to_string();
}

// Stops the io_context once every connection has closed or the deadline passes.
void wait_for_sessions(std::shared_ptr<net::steady_timer> timer, ServerContext& ctx, net::io_context& ioc,
                       std::chrono::steady_clock::time_point deadline) {
  const auto left = ctx.sessions.size();
  if (left == 0 || std::chrono::steady_clock::now() >= deadline) {
    core::log_info("shutdown_complete", {{"connections_cut", left}});
    ioc.stop();
    return;
  }
  timer->expires_after(std::chrono::milliseconds(20));
  timer->async_wait([timer, &ctx, &ioc, deadline](boost::system::error_code) {
    wait_for_sessions(timer, ctx, ioc, deadline);
  });
}

void begin_shutdown(ServerContext& ctx, net::io_context& ioc, Listener& listener, int signal) {
  if (ctx.shutting_down.exchange(true)) return;
  core::log_info("shutting_down", {{"signal", signal}, {"connections", ctx.sessions.size()}, {"rooms", ctx.rooms.size()}});
  listener.stop();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ctx.config.shutdown_timeout_ms);
  // Rooms first, so their room_closed messages are queued before each connection's 1001.
  ctx.rooms.close_all(RoomCloseReason::shutdown, [&ctx, &ioc, deadline] {
    for (const auto& s : ctx.sessions.snapshot()) s->shutdown();
    wait_for_sessions(std::make_shared<net::steady_timer>(ioc), ctx, ioc, deadline);
  });
}

}  // namespace

int run_server(const core::ServeConfig& config) {
  const int threads = config.threads > 0 ? config.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const auto db = core::parse_database_url(config.database_url);
  const auto redis = config.redis_url.empty() ? std::nullopt : core::parse_redis_url(config.redis_url);
  core::DependencyProbe probe(db, redis, std::chrono::seconds(2));
  // The context outlives the io_context: handlers destroyed with it still reach the context.
  std::optional<ServerContext> context;
  net::io_context ioc(threads);
  std::vector<games::Question> own_pool;
  if (!config.party_questions_file.empty()) {
    try {
      std::ifstream in(config.party_questions_file);
      if (!in) throw std::invalid_argument("cannot read " + config.party_questions_file);
      own_pool = games::load_questions(std::string(std::istreambuf_iterator<char>(in), {}));
      if (own_pool.size() < 12) throw std::invalid_argument("a pool needs at least 12 questions (a 12-round game)");
    } catch (const std::invalid_argument& e) {
      core::log_error("bad_question_pool", {{"key", "games.party_questions"}, {"error", e.what()}});
      return serve_bad_config;
    }
  }
  const auto& questions = own_pool.empty() ? games::builtin_questions() : own_pool;
  auto& ctx = context.emplace(ioc, config, probe, questions);

  boost::system::error_code ec;
  auto address = net::ip::make_address(config.host, ec);
  if (ec) {
    tcp::resolver resolver(ioc);
    auto results = resolver.resolve(config.host, "", ec);
    if (ec || results.empty()) {
      core::log_error("cannot_resolve", {{"host", config.host}, {"error", ec.message()}});
      return serve_cannot_listen;
    }
    address = results.begin()->endpoint().address();
  }

  auto listener = std::make_shared<Listener>(ioc, ctx);
  try {
    listener->open({address, config.port});
  } catch (const boost::system::system_error& e) {
    core::log_error("cannot_listen", {{"address", config.host}, {"port", config.port}, {"error", e.code().message()},
                                      {"hint", "is another server on that port? try --port 0"}});
    return serve_cannot_listen;
  }
  const auto ep = listener->local_endpoint();
  const std::string base = url_host(ep) + ":" + std::to_string(ep.port());
  core::log_info("listening", {{"address", base}, {"port", ep.port()}, {"url", "http://" + base + "/"},
                               {"websocket", "ws://" + base + "/ws"}, {"threads", threads}});
  if (config.dev)
    core::log_warn("dev_mode", {{"auth_required", config.auth_required},
                                {"jwt_secret", config.jwt_secret == core::kDevJwtSecret ? "development" : "configured"},
                                {"hint", "--dev is for development machines only"}});
  probe.start();
  listener->start();

  net::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code err, int sig) {
    if (!err) begin_shutdown(ctx, ioc, *listener, sig);
  });

  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : pool) t.join();
  ctx.rooms.clear();  // rooms own timers: release them while the io_context exists
  probe.stop();
  return serve_ok;
}

}  // namespace mtown::server
