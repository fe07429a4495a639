#include "mtown/server/http_routes.hpp"

#include <nlohmann/json.hpp>

#include "mtown/core/games.hpp"
#include "mtown/store/record_writer.hpp"

namespace mtown::server {
namespace {

using nlohmann::json;

HttpResponse respond(const HttpRequest& req, http::status status, std::string body, std::string_view content_type) {
  HttpResponse res{status, req.version()};
  res.set(http::field::server, "mtown/" MTOWN_VERSION);
  res.set(http::field::content_type, content_type);
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

// Splits "/api/rooms?game=arena&has_space=true" into path and decoded-enough params
// (room filters are plain ASCII words; percent-escapes are not needed and not decoded).
std::pair<std::string_view, std::vector<std::pair<std::string_view, std::string_view>>> split_target(std::string_view target) {
  const auto q = target.find('?');
  std::vector<std::pair<std::string_view, std::string_view>> params;
  if (q != std::string_view::npos) {
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
      const auto amp = rest.find('&');
      const auto pair = rest.substr(0, amp);
      const auto eq = pair.find('=');
      params.emplace_back(pair.substr(0, eq), eq == std::string_view::npos ? "" : pair.substr(eq + 1));
      rest = amp == std::string_view::npos ? "" : rest.substr(amp + 1);
    }
  }
  return {target.substr(0, q), params};
}

HttpResponse health_ready(const HttpRequest& req, ServerContext& ctx) {
  json checks = json::object();
  json failed = json::array();
  for (const auto& s : ctx.probe.statuses()) {
    json check{{"target", s.target}, {"ok", s.ok}, {"latency_ms", s.latency_ms}};
    if (!s.checked) check["error"] = "not checked yet";
    else if (!s.ok) check["error"] = s.error;
    if (!s.ok) failed.push_back(s.name);
    checks[s.name] = std::move(check);
  }
  if (ctx.recording) {
    const auto h = ctx.recording->health();
    json check{{"ok", h.ok}, {"queued", h.queued}};
    if (!h.ok) {
      check["error"] = h.error;
      failed.push_back("recording");
    }
    checks["recording"] = std::move(check);
  }
  if (ctx.shutting_down) failed.push_back("shutting_down");
  const bool ready = failed.empty();
  json body{{"status", ready ? "ready" : "not_ready"}, {"checks", std::move(checks)}};
  if (!ready) body["failed"] = std::move(failed);
  return respond_json(req, ready ? http::status::ok : http::status::service_unavailable, body);
}

HttpResponse api_rooms(const HttpRequest& req, ServerContext& ctx, const auto& params) {
  RoomFilter filter;
  for (const auto& [key, value] : params) {
    if (key == "game") {
      filter.game = std::string(value);
    } else if (key == "has_space") {
      if (value != "true" && value != "false")
        return json_error(req, http::status::bad_request, "BAD_REQUEST", "has_space must be true or false");
      filter.has_space = value == "true";
    } else {
      return json_error(req, http::status::bad_request, "BAD_REQUEST", "unknown parameter " + std::string(key));
    }
  }
  json rooms = json::array();
  for (const auto& s : ctx.rooms.list(filter))
    rooms.push_back(summary_json(s));
  return respond_json(req, http::status::ok, {{"rooms", std::move(rooms)}});
}

}  // namespace

std::optional<std::string_view> query_param(std::string_view target, std::string_view name) {
  for (const auto& [key, value] : split_target(target).second)
    if (key == name) return value;
  return std::nullopt;
}

HttpResponse respond_json(const HttpRequest& req, http::status status, const json& body) {
  return respond(req, status, body.dump() + "\n", "application/json");
}

HttpResponse json_error(const HttpRequest& req, http::status status, std::string_view code, std::string_view message) {
  return respond_json(req, status, {{"code", code}, {"message", message}});
}

HttpResponse method_not_allowed(const HttpRequest& req, std::string_view allow) {
  auto res = json_error(req, http::status::method_not_allowed, "METHOD_NOT_ALLOWED",
                        "use " + std::string(allow.substr(0, allow.find(','))));
  res.set(http::field::allow, allow);
  return res;
}

HttpResponse route_http(const HttpRequest& req, ServerContext& ctx, std::string_view client_ip) {
  ctx.metrics.http_requests.inc();
  const auto [path, params] = split_target(req.target());
  const bool is_get = req.method() == http::verb::get || req.method() == http::verb::head;
  const auto only_get = [&] { return method_not_allowed(req, "GET, HEAD"); };
  if (path == "/health/live") {
    if (!is_get) return only_get();
    const auto uptime = std::chrono::duration<double>(std::chrono::steady_clock::now() - ctx.started).count();
    return respond_json(req, http::status::ok, {{"status", "alive"}, {"uptime_s", uptime}});
  }
  if (path == "/health/ready") return is_get ? health_ready(req, ctx) : only_get();
  if (path == "/metrics")
    return is_get ? respond(req, http::status::ok, ctx.metrics.registry().render(), "text/plain; version=0.0.4")
                  : only_get();
  if (path == "/auth/guest") return guest_token(req, ctx, client_ip);
  if (path == "/api/rooms") return is_get ? api_rooms(req, ctx, params) : only_get();
  if (path == "/") {
    json games = json::array();
    for (const auto& g : core::game_catalog()) games.push_back(g.name);
    return respond_json(req, http::status::ok,
                        {{"name", "mtown"}, {"version", MTOWN_VERSION}, {"websocket", "/ws"},
                         {"subprotocols", {"mtown.v1.json", "mtown.v1.msgpack"}}, {"games", games},
                         {"endpoints", {"/health/live", "/health/ready", "/metrics", "/api/rooms", "/api/leaderboard",
                                        "/api/games/{id}"}}});
  }
  return json_error(req, http::status::not_found, "NOT_FOUND", "no route for " + std::string(path));
}

}  // namespace mtown::server
