// HTTP endpoints: health, metrics, the room list and JSON 404s. Pure request -> response
// over the shared context; never blocks (readiness comes from the probe's last result).
#pragma once
#include <functional>
#include <optional>
#include <string_view>

#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "mtown/server/server_context.hpp"

namespace mtown::server {

namespace http = boost::beast::http;
using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

// `client_ip` keys the per-address limit of POST /auth/guest.
HttpResponse route_http(const HttpRequest& req, ServerContext& ctx, std::string_view client_ip = {});

// The value of `name` in the query of `target` ("/ws?a=1&b=2"): "" for a bare `name`,
// nullopt when absent. Values are not percent-decoded.
std::optional<std::string_view> query_param(std::string_view target, std::string_view name);

// A JSON error response: {"code": code, "message": message}.
HttpResponse json_error(const HttpRequest& req, http::status status, std::string_view code, std::string_view message);
// 405 METHOD_NOT_ALLOWED with an Allow header: `allow` is "GET, HEAD" or "POST"; the
// message names the first ("use GET").
HttpResponse method_not_allowed(const HttpRequest& req, std::string_view allow);

// GET /api/leaderboard and /api/games/{id}, answered from the database. false: not
// such a route. true: `done` runs exactly once, from another thread.
bool route_db_http(const HttpRequest& req, ServerContext& ctx, std::function<void(HttpResponse)> done);

HttpResponse respond_json(const HttpRequest& req, http::status status, const nlohmann::json& body);

// POST /auth/guest {"name"}: a short-lived guest token (guest_route.cpp).
HttpResponse guest_token(const HttpRequest& req, ServerContext& ctx, std::string_view client_ip);

}  // namespace mtown::server
