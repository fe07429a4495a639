// GET /api/leaderboard and GET /api/games/{id}: answered from the database on the query
// worker's thread; the response goes back through `done` (the session posts it to its
// strand), so an io thread never waits for a query.
#include <cctype>

#include <nlohmann/json.hpp>

#include "mtown/server/http_routes.hpp"
#include "mtown/store/query_worker.hpp"
#include "mtown/store/recordings.hpp"

namespace mtown::server {
namespace {

using nlohmann::json;

bool valid_game_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  return true;
}

// 1..100, default 20; nullopt for anything else.
std::optional<int> parse_limit(std::string_view target) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return 20;
  const auto query = target.substr(q + 1);
  if (!query.starts_with("limit=")) return std::nullopt;
  const auto v = query.substr(6);
  if (v.empty() || v.size() > 3) return std::nullopt;
  int n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  if (n < 1 || n > 100) return std::nullopt;
  return n;
}

void run_query(ServerContext& ctx, const HttpRequest& head, std::function<json(store::Database&, http::status&)> query,
               std::function<void(HttpResponse)> done) {
  if (!ctx.queries)
    return done(json_error(head, http::status::service_unavailable, "DATABASE_UNAVAILABLE",
                           "no database is configured (database.url is none)"));
  auto shared_done = std::make_shared<std::function<void(HttpResponse)>>(std::move(done));
  const bool queued = ctx.queries->submit(
      [head, query = std::move(query), shared_done](store::Database& db) {
        auto status = http::status::ok;
        auto body = query(db, status);
        (*shared_done)(status == http::status::ok ? respond_json(head, status, body)
                                                  : json_error(head, status, body.value("code", ""), body.value("message", "")));
      },
      [head, shared_done](const store::StoreError& e) {
        (*shared_done)(json_error(head, http::status::service_unavailable, "DATABASE_UNAVAILABLE",
                                  std::string("the database did not answer: ") + e.what()));
      });
  if (!queued)
    (*shared_done)(json_error(head, http::status::service_unavailable, "BUSY", "too many database queries waiting; retry"));
}

}  // namespace

bool route_db_http(const HttpRequest& req, ServerContext& ctx, std::function<void(HttpResponse)> done) {
  const std::string_view target = req.target();
  const auto path = target.substr(0, target.find('?'));
  const bool leaderboard = path == "/api/leaderboard";
  if (!leaderboard && !path.starts_with("/api/games/")) return false;
  ctx.metrics.http_requests.inc();
  // The response needs only the request's version and keep-alive: copy those, not the body.
  HttpRequest head;
  head.version(req.version());
  head.keep_alive(req.keep_alive());
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    done(method_not_allowed(head, "GET, HEAD"));
    return true;
  }
  if (leaderboard) {
    const auto limit = parse_limit(target);
    if (!limit) {
      done(json_error(head, http::status::bad_request, "BAD_REQUEST", "the only parameter is limit=1..100"));
      return true;
    }
    run_query(ctx, head, [n = *limit](store::Database& db, http::status&) { return store::leaderboard_json(db, n); },
              std::move(done));
    return true;
  }
  const std::string id(path.substr(std::string_view("/api/games/").size()));
  if (!valid_game_id(id) || target.find('?') != std::string_view::npos) {
    done(json_error(head, http::status::bad_request, "BAD_REQUEST",
                    "a game id is 1-64 letters, digits, '_' or '-' (e.g. g_1a2b3c4d5e6f7a8b)"));
    return true;
  }
  run_query(ctx, head, [id](store::Database& db, http::status& status) {
    if (auto game = store::game_json(db, id)) return std::move(*game);
    status = http::status::not_found;
    return json{{"code", "GAME_NOT_FOUND"}, {"message", "no recorded game " + id}};
  }, std::move(done));
  return true;
}

}  // namespace mtown::server
