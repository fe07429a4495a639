#include "mtown/store/database.hpp"

#include "mtown/core/dependency_probe.hpp"
#include "dialects.hpp"

namespace mtown::store {

std::unique_ptr<Database> Database::open(const std::string& url, int timeout_ms) {
  const auto parsed = core::parse_database_url(url);
  if (!parsed || parsed->kind == core::DatabaseUrl::Kind::none)
    throw StoreError(false, "expected a database URL sqlite:PATH or postgres://..., got \"" + url + "\"");
  if (parsed->kind == core::DatabaseUrl::Kind::sqlite) return open_sqlite(parsed->target, timeout_ms);
  return open_postgres(parsed->target, timeout_ms);
}

std::string Database::iso(const std::string& column) const {
  if (dialect() == Dialect::sqlite) return column;
  return "to_char(" + column + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";
}

}  // namespace mtown::store
