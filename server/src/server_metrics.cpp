#include "mtown/server/server_metrics.hpp"

#include <dirent.h>
#include <unistd.h>

#include <fstream>

#include "mtown/core/games.hpp"

namespace mtown::server {
namespace {

double resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return static_cast<double>(pages_resident) * static_cast<double>(::sysconf(_SC_PAGESIZE));
}

double open_fds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return 0;
  double n = 0;
  while (::readdir(dir)) ++n;
  ::closedir(dir);
  return n - 3;  // ".", ".." and the directory's own descriptor
}

}  // namespace

ServerMetrics::ServerMetrics()
    : connections(registry_.gauge("mtown_ws_connections", "Open WebSocket connections")),
      connections_total(registry_.counter("mtown_ws_connections_total", "WebSocket connections accepted")),
      connections_refused(registry_.counter("mtown_ws_connections_refused_total",
                                            "WebSocket upgrades refused (limits, subprotocol)")),
      slow_consumer_closes(registry_.counter("mtown_ws_closed_total", "Connections closed by the server",
                                             {{"reason", "slow_consumer"}})),
      oversized_closes(registry_.counter("mtown_ws_closed_total", "Connections closed by the server",
                                         {{"reason", "message_too_big"}})),
      rate_limit_closes(registry_.counter("mtown_ws_closed_total", "Connections closed by the server",
                                          {{"reason", "rate_limited"}})),
      auth_closes(registry_.counter("mtown_ws_closed_total", "Connections closed by the server", {{"reason", "auth"}})),
      send_queue_bytes(registry_.gauge("mtown_send_queue_bytes", "Bytes waiting in all connections' send queues")),
      send_queue_messages(registry_.gauge("mtown_send_queue_messages",
                                          "Messages waiting in all connections' send queues")),
      send_stalls(registry_.counter("mtown_ws_send_stalls_total",
                                    "Writes a connection's socket could not take whole at once (its send buffer was full)")),
      http_requests(registry_.counter("mtown_http_requests_total", "HTTP requests served")),
      sessions(registry_.gauge("mtown_sessions", "Player sessions, connected or waiting for a resume")),
      sessions_resumed(registry_.counter("mtown_sessions_resumed_total", "Resumes, by outcome", {{"outcome", "replayed"}})),
      resume_snapshots(registry_.counter("mtown_sessions_resumed_total", "Resumes, by outcome", {{"outcome", "snapshot"}})),
      resumes_refused(registry_.counter("mtown_resumes_refused_total", "Resume attempts refused")),
      seats_released(registry_.counter("mtown_seats_released_total", "Seats released after the disconnect grace period")),
      heartbeat_timeouts(registry_.counter("mtown_ws_closed_total", "Connections closed by the server",
                                           {{"reason", "heartbeat_timeout"}})),
      superseded_closes(registry_.counter("mtown_ws_closed_total", "Connections closed by the server",
                                          {{"reason", "superseded"}})) {
  for (std::size_t i = 0; i < in_msgs_.size(); ++i) {
    const std::string type =
        i < in_msgs_.size() - 1 ? std::string(core::client_type_name(static_cast<core::ClientType>(i))) : "invalid";
    in_msgs_[i] = &registry_.counter("mtown_messages_in_total", "Client messages received", {{"type", type}});
    in_bytes_[i] = &registry_.counter("mtown_bytes_in_total", "Client message bytes received", {{"type", type}});
  }
  for (std::size_t i = 0; i < out_msgs_.size(); ++i) {
    const std::string type(core::server_type_name(static_cast<core::ServerType>(i)));
    out_msgs_[i] = &registry_.counter("mtown_messages_out_total", "Server messages queued to clients", {{"type", type}});
    out_bytes_[i] = &registry_.counter("mtown_bytes_out_total", "Server message bytes queued to clients", {{"type", type}});
  }
  for (std::size_t i = 0; i < errors_.size(); ++i)
    errors_[i] = &registry_.counter("mtown_errors_total", "Error messages sent, by code",
                                    {{"code", std::string(core::error_code_name(static_cast<core::ErrorCode>(i)))}});
  const auto games = core::game_catalog();
  for (std::size_t i = 0; i < games.size() && i < rooms_.size(); ++i) {
    const core::Labels game{{"game", std::string(games[i].name)}};
    rooms_[i] = &registry_.gauge("mtown_rooms", "Open rooms by game", game);
    tick_duration_[i] = &registry_.histogram("mtown_tick_duration_seconds",
                                             "Time one game step takes, encode and fan-out included",
                                             core::exponential_buckets(0.000005, 2, 16), game);
    tick_overruns_[i] = &registry_.counter("mtown_tick_overruns_total",
                                           "Ticks dropped because a room fell too far behind its schedule", game);
    games_started_[i] = &registry_.counter("mtown_games_started_total", "Games started", game);
  }

  auto& rss = registry_.gauge("process_resident_memory_bytes", "Resident memory size in bytes");
  auto& fds = registry_.gauge("process_open_fds", "Open file descriptors");
  registry_.on_collect([&rss, &fds] {
    rss.set(resident_bytes());
    fds.set(open_fds());
  });
}

void ServerMetrics::message_in(core::ClientType type, std::size_t bytes) {
  in_msgs_[static_cast<std::size_t>(type)]->inc();
  in_bytes_[static_cast<std::size_t>(type)]->inc(bytes);
}

void ServerMetrics::message_in_invalid(std::size_t bytes) {
  in_msgs_.back()->inc();
  in_bytes_.back()->inc(bytes);
}

void ServerMetrics::message_out(const core::OutboundMessage& message, std::size_t bytes) {
  out_msgs_[static_cast<std::size_t>(message.type)]->inc();
  out_bytes_[static_cast<std::size_t>(message.type)]->inc(bytes);
  if (message.type == core::ServerType::error) errors_[static_cast<std::size_t>(message.error)]->inc();
}

std::size_t ServerMetrics::game_index(std::string_view game) const {
  const auto games = core::game_catalog();
  for (std::size_t i = 0; i < games.size() && i < rooms_.size(); ++i)
    if (games[i].name == game) return i;
  return 0;
}

core::Gauge& ServerMetrics::rooms(std::string_view game) { return *rooms_[game_index(game)]; }
core::Histogram& ServerMetrics::tick_duration(std::string_view game) { return *tick_duration_[game_index(game)]; }
core::Counter& ServerMetrics::tick_overruns(std::string_view game) { return *tick_overruns_[game_index(game)]; }
core::Counter& ServerMetrics::games_started(std::string_view game) { return *games_started_[game_index(game)]; }

}  // namespace mtown::server
