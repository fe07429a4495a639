#include "mtown/server/server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <fstream>
#include <iterator>
#include <optional>
#include <thread>
#include <vector>

#include <unistd.h>

#include "mtown/core/auth.hpp"
#include "mtown/core/log.hpp"
#include "mtown/core/recv_ring.hpp"
#include "mtown/games/registry.hpp"
#include "mtown/server/listener.hpp"
#include "mtown/server/send_batch.hpp"
#include "mtown/server/server_context.hpp"
#include "mtown/server/stream.hpp"
#include "mtown/server/ws_session.hpp"
#include "redis_live_state.hpp"
#include "mtown/store/query_worker.hpp"
#include "mtown/store/record_writer.hpp"
#include "mtown/store/recordings.hpp"

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

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

// With redis.url set, rooms mirror their state into Redis and ops can close them from there.
std::unique_ptr<RedisLiveState> make_live_state(const core::ServeConfig& config, const core::RedisUrl& url,
                                                const std::string& address, std::uint16_t port, ServerContext& ctx) {
  const std::string node_id = config.redis_node_id.empty() ? host_name() + ":" + std::to_string(port) : config.redis_node_id;
  auto load = [&ctx, &config] { return NodeLoad{ctx.open_connections.load(), config.max_connections, config.max_rooms}; };
  auto close_room = [&ctx](const std::string& code, RedisSubscriber::Reply reply) {
    const auto room = ctx.rooms.find(code);
    if (!room) return reply(false, "the room is not open on this node");
    room->close(RoomCloseReason::by_operator, [reply] { reply(true, "closed"); });
  };
  core::log_info("redis_live_state", {{"node", node_id}, {"redis", url.host + ":" + std::to_string(url.port)},
                                      {"db", url.db}, {"key_ttl_s", config.redis_key_ttl_s}});
  return std::make_unique<RedisLiveState>(config, url, node_id, address, ctx.metrics.registry(), std::move(load),
                                          std::move(close_room));
}

// Precedence: games.party_questions (a file the operator named) > the `questions` table
// when it has rows > the built-in pool. Returns false on a pool that cannot run a game.
bool load_question_pool(const core::ServeConfig& config, std::vector<games::Question>& pool) {
  std::string source = "games.party_questions";
  try {
    if (!config.party_questions_file.empty()) {
      std::ifstream in(config.party_questions_file);
      if (!in) throw std::invalid_argument("cannot read " + config.party_questions_file);
      pool = games::load_questions(std::string(std::istreambuf_iterator<char>(in), {}));
    } else if (const auto db = core::parse_database_url(config.database_url); db && db->kind != core::DatabaseUrl::Kind::none) {
      source = "questions table";
      try {
        const auto rows = store::question_pool_json(*store::Database::open(config.database_url));
        if (!rows.empty()) pool = games::load_questions(rows.dump());
      } catch (const store::StoreError& e) {  // no database yet: the built-in pool, and say so
        core::log_warn("question_table_unreadable", {{"error", e.what()}, {"using", "built-in pool"}});
        return true;
      }
    }
    if (!pool.empty() && pool.size() < 12) throw std::invalid_argument("a pool needs at least 12 questions (a 12-round game)");
  } catch (const std::invalid_argument& e) {
    core::log_error("bad_question_pool", {{"source", source}, {"error", e.what()}});
    return false;
  }
  if (!pool.empty()) core::log_info("question_pool", {{"source", source}, {"questions", pool.size()}});
  return true;
}

// The recording writer and the API's query worker, when a database is configured.
void start_storage(const core::ServeConfig& config, ServerContext& ctx) {
  const auto db = core::parse_database_url(config.database_url);
  if (!db || db->kind == core::DatabaseUrl::Kind::none) return;
  ctx.queries = std::make_shared<store::QueryWorker>(config.database_url, 64, 2000);
  if (!config.recording_enabled) return;
  store::WriterSettings s;
  s.batch_max_rows = static_cast<std::size_t>(config.recording_batch_max_rows);
  s.batch_max_ms = std::chrono::milliseconds(config.recording_batch_max_ms);
  s.queue_max_records = static_cast<std::size_t>(config.recording_queue_max_records);
  s.retry_max_backoff = std::chrono::milliseconds(config.recording_retry_max_backoff_ms);
  ctx.recording = std::make_shared<store::RecordWriter>(config.database_url, s, ctx.metrics.registry());
  ctx.recording->start();
  ctx.rooms.set_recording(ctx.recording);
}

}  // namespace

int run_server(const core::ServeConfig& config) {
  const int threads = config.threads > 0 ? config.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const auto db = core::parse_database_url(config.database_url);
  const auto redis = config.redis_url.empty() ? std::nullopt : core::parse_redis_url(config.redis_url);
  core::DependencyProbe probe(db, redis, std::chrono::seconds(2));
  // The context outlives the io_context: handlers destroyed with it still reach the context.
  std::optional<ServerContext> context;
  std::unique_ptr<RedisLiveState> live;  // outlives the io_context: rooms call into it
  std::unique_ptr<net::ssl::context> tls;  // outlives the io_context: connections use it
  net::io_context ioc(threads);
  // The io_uring reads (ctx.reads) go before the io_context, on every way out. Connections
  // still open wait on them: their reads fail, and their handlers go with the io_context.
  struct EndReads {
    std::optional<ServerContext>& context;
    ~EndReads() {
      if (!context || !context->reads) return;
      context->reads->end_all(ESHUTDOWN);
      context->reads.reset();
    }
  } end_reads{context};
  std::vector<games::Question> own_pool;
  if (!load_question_pool(config, own_pool)) return serve_bad_config;
  if (!config.tls_cert_file.empty()) {
    try {
      tls = make_tls_context(config.tls_cert_file, config.tls_key_file);
    } catch (const std::runtime_error& e) {
      core::log_error("bad_tls_files", {{"error", e.what()}});
      return serve_bad_config;
    }
  }
  const auto& questions = own_pool.empty() ? games::builtin_questions() : own_pool;
  auto& ctx = context.emplace(ioc, config, probe, questions);
  ctx.tls = tls.get();
  start_storage(config, ctx);

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

  auto listener = std::make_shared<Listener>(ioc, ctx, threads);
  try {
    listener->open({address, config.port});
  } catch (const boost::system::system_error& e) {
    core::log_error("cannot_listen", {{"address", config.host}, {"port", config.port}, {"error", e.code().message()},
                                      {"hint", "is another server on that port? try --port 0"}});
    return serve_cannot_listen;
  }
  // Before "listening" is logged: whoever waits for that line may signal at once.
  net::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code err, int sig) {
    if (!err) begin_shutdown(ctx, ioc, *listener, sig);
  });
  const auto ep = listener->local_endpoint();
  const std::string base = url_host(ep) + ":" + std::to_string(ep.port());
  const std::string s = tls ? "s" : "";
  // Only one io thread writes inline from a room's tick, so only then are sends batched.
  SendBatch::set_enabled(config.io_uring && threads == 1);
  const char* sends = config.io_uring && threads == 1 && SendBatch::uses_io_uring() ? "io_uring" : "sendmsg";
  // Opened here, on the thread that runs the io_context: the ring's single issuer. TLS
  // connections read through OpenSSL and the reactor, so under TLS there is no ring.
  if (config.io_uring && threads == 1 && !tls) ctx.reads = core::RecvRing::open(ioc);
  core::log_info("listening", {{"address", base}, {"port", ep.port()}, {"url", "http" + s + "://" + base + "/"},
                               {"websocket", "ws" + s + "://" + base + "/ws"}, {"tls", tls != nullptr}, {"threads", threads},
                               {"sends", sends}, {"reads", ctx.reads ? "io_uring" : "epoll"}});
  if (redis) {
    live = make_live_state(config, *redis, base, ep.port(), ctx);
    ctx.rooms.set_live_state(live.get());
    probe.add_gate("redis", [&live] { return live->health_problem(); });
    live->start();
  }
  if (config.dev)
    core::log_warn("dev_mode", {{"auth_required", config.auth_required},
                                {"jwt_secret", config.jwt_secret == core::kDevJwtSecret ? "development" : "configured"},
                                {"hint", "--dev is for development machines only"}});
  probe.start();
  listener->start();


  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : pool) t.join();
  ctx.rooms.clear();  // rooms own timers: release them while the io_context exists
  ctx.player_sessions.clear();  // so do sessions waiting for a resume
  if (live) live->stop();  // after the rooms closed: their deletions reach Redis first
  if (ctx.recording) {  // the rooms closed above recorded their games' ends: write them
    const auto left = ctx.recording->health().queued;
    ctx.recording->stop(std::chrono::milliseconds(config.shutdown_timeout_ms));
    core::log_info("recording_flushed", {{"records", left}});
  }
  ctx.queries.reset();
  probe.stop();
  return serve_ok;
}

}  // namespace mtown::server
