// PostgreSQL via libpqxx: parameters are quoted into the statement text by the
// connection (so one batch of events is one multi-row INSERT, one round trip).
#include <pqxx/pqxx>

#include <cctype>
#include <type_traits>

#include "dialects.hpp"

namespace mtown::store {
namespace {

constexpr std::size_t kRowsPerInsert = 500;

bool transient_state(const std::string& sqlstate) {
  const auto cls = sqlstate.substr(0, 2);
  return cls == "08" || cls == "53" || cls == "57" || cls == "40";
}

std::string with_connect_timeout(const std::string& url) {
  if (url.find("connect_timeout") != std::string::npos) return url;
  return url + (url.find('?') == std::string::npos ? "?" : "&") + "connect_timeout=3";
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

class PostgresDatabase final : public Database {
 public:
  PostgresDatabase(const std::string& url, int timeout_ms) {
    guarded("connecting", [&] {
      conn_ = std::make_unique<pqxx::connection>(with_connect_timeout(url));
      pqxx::nontransaction tx(*conn_);
      tx.exec("SET statement_timeout = " + std::to_string(timeout_ms));
      return 0;
    });
  }

  Dialect dialect() const override { return Dialect::postgres; }

  void begin() override {
    guarded("BEGIN", [&] {
      work_ = std::make_unique<pqxx::work>(*conn_);
      return 0;
    });
  }
  void commit() override {
    guarded("COMMIT", [&] {
      auto w = std::move(work_);
      w->commit();
      return 0;
    });
  }
  void rollback() noexcept override { work_.reset(); }  // ~work aborts

  std::vector<Row> query(const std::string& sql, const std::vector<Param>& params) override {
    return guarded(sql, [&] {
      const auto text = substitute(sql, params);
      pqxx::result res;
      if (work_) {
        res = work_->exec(text);
      } else {
        pqxx::nontransaction tx(*conn_);
        res = tx.exec(text);
      }
      std::vector<Row> rows;
      for (const auto& r : res) {
        Row row;
        for (const auto& f : r) row.emplace_back(f.is_null() ? std::nullopt : std::optional<std::string>(f.c_str()));
        rows.push_back(std::move(row));
      }
      return rows;
    });
  }

  void insert_events(const std::vector<EventRow>& rows) override {
    for (std::size_t at = 0; at < rows.size(); at += kRowsPerInsert) {
      std::string sql = "INSERT INTO game_events (game_id, tick, seq, kind, event_type, seat, player_id, payload) VALUES ";
      for (std::size_t i = at; i < std::min(rows.size(), at + kRowsPerInsert); ++i) {
        const auto& r = rows[i];
        if (i > at) sql += ',';
        sql += '(' + conn_->quote(r.game_id) + ',' + std::to_string(r.tick) + ',' + std::to_string(r.seq) + ',' +
               conn_->quote(r.kind) + ',' + conn_->quote(r.event_type) + ',' +
               (r.seat ? std::to_string(*r.seat) : std::string("NULL")) + ',' +
               (r.player_id.empty() ? std::string("NULL") : conn_->quote(r.player_id)) + ',' +
               conn_->quote(r.payload.dump()) + ')';
      }
      sql += " ON CONFLICT (game_id, tick, seq) DO NOTHING";
      query(sql, {});
    }
  }

 private:
  // $N -> the N-th parameter, quoted (or NULL).
  std::string substitute(const std::string& sql, const std::vector<Param>& params) {
    std::string out;
    for (std::size_t i = 0; i < sql.size(); ++i) {
      if (sql[i] != '$' || i + 1 >= sql.size() || !std::isdigit(static_cast<unsigned char>(sql[i + 1]))) {
        out += sql[i];
        continue;
      }
      std::size_t n = 0;
      while (i + 1 < sql.size() && std::isdigit(static_cast<unsigned char>(sql[i + 1]))) n = n * 10 + (sql[++i] - '0');
      if (n == 0 || n > params.size()) throw StoreError(false, "statement names $" + std::to_string(n) + " but has " +
                                                                   std::to_string(params.size()) + " parameters");
      out += params[n - 1] ? conn_->quote(*params[n - 1]) : "NULL";
    }
    return out;
  }

  template <class F>
  std::invoke_result_t<F> guarded(const std::string& what, F&& f) {
    try {
      return f();
    } catch (const StoreError&) {
      throw;
    } catch (const pqxx::broken_connection& e) {
      work_.reset();
      throw StoreError(true, "PostgreSQL connection lost: " + trimmed(e.what()));
    } catch (const pqxx::in_doubt_error& e) {
      work_.reset();
      throw StoreError(true, "PostgreSQL commit in doubt: " + trimmed(e.what()));
    } catch (const pqxx::sql_error& e) {
      work_.reset();
      throw StoreError(transient_state(e.sqlstate()), "PostgreSQL: " + trimmed(e.what()) + " (" + what.substr(0, 80) + ")");
    } catch (const std::exception& e) {
      work_.reset();
      throw StoreError(true, "PostgreSQL: " + trimmed(e.what()));
    }
  }

  std::unique_ptr<pqxx::connection> conn_;
  std::unique_ptr<pqxx::work> work_;
};

}  // namespace

std::unique_ptr<Database> open_postgres(const std::string& url, int timeout_ms) {
  return std::make_unique<PostgresDatabase>(url, timeout_ms);
}

}  // namespace mtown::store
