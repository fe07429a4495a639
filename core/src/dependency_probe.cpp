#include "mtown/core/dependency_probe.hpp"

#include "mtown/core/redis_client.hpp"

#include <sqlite3.h>

#include <charconv>
#include <pqxx/pqxx>

namespace mtown::core {
namespace {

std::optional<int> to_int(std::string_view s) {
  int v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// postgres://user:secret@host/db -> postgres://user@host/db, for logs and /health/ready.
std::string without_password(const std::string& url) {
  const auto scheme = url.find("://");
  const auto at = url.find('@');
  if (scheme == std::string::npos || at == std::string::npos) return url;
  const auto colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon) + url.substr(at);
}

template <typename F>
DependencyStatus timed(std::string name, std::string target, F&& check) {
  DependencyStatus s;
  s.name = std::move(name);
  s.target = std::move(target);
  const auto start = std::chrono::steady_clock::now();
  s.error = check();
  s.ok = s.error.empty();
  s.checked = true;
  s.latency_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return s;
}

}  // namespace

std::optional<RedisUrl> parse_redis_url(const std::string& url) {
  constexpr std::string_view scheme = "redis://";
  if (!url.starts_with(scheme)) return std::nullopt;
  std::string_view rest = std::string_view(url).substr(scheme.size());
  RedisUrl out;
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    const auto userinfo = rest.substr(0, at);
    const auto colon = userinfo.find(':');
    out.user = std::string(userinfo.substr(0, colon));
    if (colon != std::string_view::npos) out.password = std::string(userinfo.substr(colon + 1));
    else std::swap(out.user, out.password);  // redis://secret@host: a bare password
    rest = rest.substr(at + 1);
  }
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    const auto db = to_int(rest.substr(slash + 1));
    if (!db || *db < 0) return std::nullopt;
    out.db = *db;
    rest = rest.substr(0, slash);
  }
  if (const auto colon = rest.rfind(':'); colon != std::string_view::npos && rest.back() != ']') {
    const auto port = to_int(rest.substr(colon + 1));
    if (!port || *port < 1 || *port > 65535) return std::nullopt;
    out.port = *port;
    rest = rest.substr(0, colon);
  }
  if (rest.size() > 2 && rest.front() == '[' && rest.back() == ']') rest = rest.substr(1, rest.size() - 2);
  if (rest.empty()) return std::nullopt;
  out.host = std::string(rest);
  return out;
}

std::optional<DatabaseUrl> parse_database_url(const std::string& url) {
  if (url.empty() || url == "none") return DatabaseUrl{};
  if (url.starts_with("sqlite:")) {
    const auto path = url.substr(7);
    if (path.empty()) return std::nullopt;
    return DatabaseUrl{DatabaseUrl::Kind::sqlite, path};
  }
  if (url.starts_with("postgres://") || url.starts_with("postgresql://"))
    return DatabaseUrl{DatabaseUrl::Kind::postgres, url};
  return std::nullopt;
}

DependencyProbe::DependencyProbe(std::optional<DatabaseUrl> database, std::optional<RedisUrl> redis,
                                 std::chrono::milliseconds interval)
    : database_(std::move(database)), redis_(std::move(redis)), interval_(interval) {
  if (database_ && database_->kind == DatabaseUrl::Kind::none) database_.reset();
  const auto pending = [](std::string name, std::string target) {
    DependencyStatus s;
    s.name = std::move(name);
    s.target = std::move(target);
    return s;
  };
  if (database_) statuses_.push_back(pending("database", without_password(database_->target)));
  if (redis_) statuses_.push_back(pending("redis", redis_->host + ":" + std::to_string(redis_->port)));
}

DependencyProbe::~DependencyProbe() { stop(); }

void DependencyProbe::start() {
  if (!thread_.joinable() && (database_ || redis_)) thread_ = std::thread([this] { run(); });
}

void DependencyProbe::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DependencyProbe::add_gate(std::string name, std::function<std::string()> failing) {
  gates_.emplace_back(std::move(name), std::move(failing));
}

std::vector<DependencyStatus> DependencyProbe::statuses() const {
  std::vector<DependencyStatus> out;
  {
    std::lock_guard lock(mutex_);
    out = statuses_;
  }
  for (const auto& [name, failing] : gates_) {
    const auto reason = failing();
    if (reason.empty()) continue;
    for (auto& s : out)
      if (s.name == name) {
        s.error = s.ok || s.error.empty() ? reason : s.error + "; " + reason;
        s.ok = false;
        s.checked = true;
      }
  }
  return out;
}

void DependencyProbe::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    std::vector<DependencyStatus> fresh;
    if (database_) fresh.push_back(check_database());
    if (redis_) fresh.push_back(check_redis());
    lock.lock();
    statuses_ = std::move(fresh);
    wake_.wait_for(lock, interval_, [this] { return stopping_; });
  }
}

DependencyStatus DependencyProbe::check_database() const {
  const auto& db = *database_;
  return timed("database", without_password(db.target), [&]() -> std::string {
    if (db.kind == DatabaseUrl::Kind::sqlite) {
      sqlite3* handle = nullptr;
      int rc = sqlite3_open_v2(db.target.c_str(), &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
      if (rc == SQLITE_OK) rc = sqlite3_exec(handle, "SELECT 1", nullptr, nullptr, nullptr);
      std::string err = rc == SQLITE_OK ? "" : "sqlite: " + std::string(sqlite3_errmsg(handle));
      sqlite3_close(handle);
      return err;
    }
    try {
      const auto sep = db.target.find('?') == std::string::npos ? "?" : "&";
      pqxx::connection conn(db.target + sep + "connect_timeout=2");
      pqxx::nontransaction tx(conn);
      tx.exec("SELECT 1");
      return "";
    } catch (const std::exception& e) {
      std::string msg = e.what();
      while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
      return "postgres: " + msg;
    }
  });
}

DependencyStatus DependencyProbe::check_redis() const {
  const auto& r = *redis_;
  return timed("redis", r.host + ":" + std::to_string(r.port), [&]() -> std::string {
    RedisClient client;
    if (auto err = client.connect(r, std::chrono::seconds(2))) return "redis: " + err->message;
    const auto reply = client.command({"PING"});
    if (!reply) return "redis: " + client.last_error().message;
    if (reply->is_error()) return "redis: " + reply->str;
    return "";
  });
}

}  // namespace mtown::core
