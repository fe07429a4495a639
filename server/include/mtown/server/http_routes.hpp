// HTTP endpoints: health, metrics, the room list and JSON 404s. Pure request -> response
// over the shared context; never blocks (readiness comes from the probe's last result).
#pragma once
#include <boost/beast/http.hpp>

#include "mtown/server/server_context.hpp"

namespace mtown::server {

namespace http = boost::beast::http;
using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

HttpResponse route_http(const HttpRequest& req, ServerContext& ctx);

// A JSON error response: {"code": code, "message": message}.
HttpResponse json_error(const HttpRequest& req, http::status status, std::string_view code, std::string_view message);

}  // namespace mtown::server
