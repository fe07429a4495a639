// Databases for the recording tests: a fresh SQLite file or a fresh PostgreSQL database
// (created on MTOWN_TEST_PG_URL's server, dropped after), migrated, read through
// mtown_store. Main-thread use only.
#pragma once
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "mtown/migrate/migrator.hpp"
#include "mtown/store/database.hpp"

namespace mtown::test::recording {

inline std::string pg_base_url() {
  const char* url = std::getenv("MTOWN_TEST_PG_URL");
  if (!url || !*url) FAIL("MTOWN_TEST_PG_URL is not set: run the suite with tests/run-suite.sh");
  return url;
}

class TestDatabase {
 public:
  // dialect "sqlite" or "postgres"; migrate: apply every migration first.
  TestDatabase(const std::string& dialect, bool migrate = true) {
    if (dialect == "sqlite") {
      std::string tmpl = (std::filesystem::temp_directory_path() / "mtown-rec-XXXXXX").string();
      REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
      dir_ = tmpl;
      url_ = "sqlite:" + dir_ + "/mtown.db";
    } else {
      base_ = pg_base_url();
      std::random_device rd;
      name_ = "mtown_rec_" + std::to_string(rd() % 1000000000);
      store::Database::open(base_)->query("CREATE DATABASE " + name_);
      url_ = base_.substr(0, base_.rfind('/') + 1) + name_;
    }
    if (migrate) migrate::Migrator::open(url_)->up(std::nullopt, false);
  }
  ~TestDatabase() {
    db_.reset();
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
    if (!name_.empty()) {
      try {
        store::Database::open(base_)->query("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
      } catch (const std::exception& e) {
        WARN("dropping " << name_ << ": " << e.what());
      }
    }
  }
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  const std::string& url() const { return url_; }
  store::Database& db() {
    if (!db_) db_ = store::Database::open(url_);
    return *db_;
  }
  long long scalar(const std::string& sql, const std::vector<store::Param>& params = {}) {
    const auto rows = db().query(sql, params);
    REQUIRE(rows.size() == 1);
    return rows[0].at(0) ? std::stoll(*rows[0][0]) : 0;
  }

 private:
  std::string dir_, base_, name_, url_;
  std::unique_ptr<store::Database> db_;
};

// The `records` of every recording_dropped log line, summed per reason.
inline std::map<std::string, std::uint64_t> logged_drops(const std::string& log) {
  std::map<std::string, std::uint64_t> sum;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    if (line.find("\"recording_dropped\"") == std::string::npos) continue;
    const auto j = nlohmann::json::parse(line);
    sum[j["reason"].get<std::string>()] += j["records"].get<std::uint64_t>();
  }
  return sum;
}

}  // namespace mtown::test::recording
