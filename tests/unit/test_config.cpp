// Config layering (defaults < YAML < MTOWN_* env < flags), validation errors naming the key,
// to_yaml provenance, and the typed ServeConfig view.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include <catch2/catch.hpp>

#include "mtown/core/config.hpp"
#include "mtown/core/config_schema.hpp"

namespace {

using mtown::core::Config;
using mtown::core::ConfigError;
using mtown::core::ConfigOverrides;
using mtown::core::ConfigType;
using mtown::core::EnvLookup;

// A mkdtemp directory removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mtown-config-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    const auto p = path_ / name;
    std::ofstream(p) << text;
    return p.string();
  }
  std::string path(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

EnvLookup env_from(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

const EnvLookup kNoEnv = [](const char*) -> const char* { return nullptr; };

// The ConfigError thrown by fn; fails the test when nothing (or something else) is thrown.
template <typename Fn>
ConfigError config_error(Fn&& fn) {
  try {
    fn();
  } catch (const ConfigError& e) {
    return e;
  }
  FAIL("expected a ConfigError");
  return ConfigError("", "");
}

}  // namespace

TEST_CASE("config: built-in defaults", "[config]") {
  const Config c = Config::defaults();
  CHECK(c.str("server.host") == "127.0.0.1");
  CHECK(c.integer("server.port") == 8080);
  CHECK(c.integer("server.threads") == 0);
  CHECK(c.integer("server.shutdown_timeout_ms") == 5000);
  CHECK(c.str("log.level") == "info");
  CHECK(c.str("log.format") == "auto");
  CHECK(c.integer("rooms.max_rooms") == 10000);
  CHECK(c.integer("rooms.empty_grace_s") == 30);
  CHECK(c.integer("rooms.ttl_s") == 14400);
  CHECK(c.integer("limits.max_frame_bytes") == 65536);
  CHECK(c.integer("limits.write_queue_max_bytes") == 1048576);
  CHECK(c.integer("limits.chat_max_chars") == 200);
  CHECK(c.str("database.url") == "sqlite:./mtown.db");
  CHECK(c.str("redis.url").empty());
  for (const auto& k : mtown::core::serve_config_keys()) CHECK(c.source(std::string(k.key)) == "default");

  // load() with nothing to layer is the same as defaults().
  const Config loaded = Config::load("", kNoEnv, {});
  for (const auto& k : mtown::core::serve_config_keys()) {
    CHECK(loaded.str(std::string(k.key)) == c.str(std::string(k.key)));
    CHECK(loaded.source(std::string(k.key)) == "default");
  }
  CHECK(config_error([&] { (void)c.str("server.nope"); }).key() == "server.nope");
}

TEST_CASE("config: every schema default is valid and every integer range is enforced", "[config]") {
  std::set<std::string> env_names;
  for (const auto& k : mtown::core::serve_config_keys()) {
    const std::string key(k.key);
    INFO(key);
    CHECK(env_names.insert(mtown::core::config_env_name(k.key)).second);
    CHECK_NOTHROW(Config::load("", kNoEnv, {{key, std::string(k.default_value)}}));
    if (k.type != ConfigType::integer) continue;
    CHECK(Config::load("", kNoEnv, {{key, std::to_string(k.min)}}).integer(key) == k.min);
    CHECK(Config::load("", kNoEnv, {{key, std::to_string(k.max)}}).integer(key) == k.max);
    CHECK(config_error([&] { Config::load("", kNoEnv, {{key, std::to_string(k.min - 1)}}); }).key() == key);
    CHECK(config_error([&] { Config::load("", kNoEnv, {{key, std::to_string(k.max + 1)}}); }).key() == key);
  }
}

TEST_CASE("config: config_env_name", "[config]") {
  const std::pair<const char*, const char*> table[] = {
      {"server.port", "MTOWN_SERVER_PORT"},
      {"log.level", "MTOWN_LOG_LEVEL"},
      {"limits.max_frame_bytes", "MTOWN_LIMITS_MAX_FRAME_BYTES"},
      {"rooms.empty_grace_s", "MTOWN_ROOMS_EMPTY_GRACE_S"},
  };
  for (const auto& [key, env] : table) CHECK(mtown::core::config_env_name(key) == env);
}

TEST_CASE("config: YAML nested keys, then env, then flags", "[config]") {
  TempDir dir;
  const std::string file = dir.write("mtown.yaml",
                                     "server:\n  host: 0.0.0.0\n  port: 9000\n"
                                     "log:\n  level: debug\n"
                                     "rooms:\n  max_rooms: 5\n");
  const std::string from_file = "file " + file;

  const Config f = Config::load(file, kNoEnv, {});
  CHECK(f.str("server.host") == "0.0.0.0");
  CHECK(f.integer("server.port") == 9000);
  CHECK(f.str("log.level") == "debug");
  CHECK(f.integer("rooms.max_rooms") == 5);
  CHECK(f.source("server.port") == from_file);
  CHECK(f.source("log.format") == "default");

  const auto env = env_from({{"MTOWN_SERVER_PORT", "9100"}, {"MTOWN_LOG_FORMAT", "json"}, {"HOME", "/x"}});
  const Config e = Config::load(file, env, {});
  CHECK(e.integer("server.port") == 9100);
  CHECK(e.source("server.port") == "env MTOWN_SERVER_PORT");
  CHECK(e.str("log.format") == "json");
  CHECK(e.str("server.host") == "0.0.0.0");  // file value untouched by env

  const Config o = Config::load(file, env, {{"server.port", "9200"}, {"log.level", "warn"}});
  CHECK(o.integer("server.port") == 9200);
  CHECK(o.source("server.port") == "flag");
  CHECK(o.str("log.level") == "warn");
  CHECK(o.source("log.level") == "flag");
  CHECK(o.source("log.format") == "env MTOWN_LOG_FORMAT");

  // A later flag for the same key wins.
  CHECK(Config::load("", kNoEnv, {{"server.port", "1"}, {"server.port", "2"}}).integer("server.port") == 2);
}

TEST_CASE("config: the shipped examples/mtown.yaml loads and restates the defaults", "[config]") {
  const auto example = std::filesystem::path(__FILE__).parent_path() / "../../examples/mtown.yaml";
  REQUIRE(std::filesystem::exists(example));
  const Config c = Config::load(example.string(), kNoEnv, {});
  const Config d = Config::defaults();
  for (const auto& k : mtown::core::serve_config_keys()) {
    const std::string key(k.key);
    INFO(key);
    CHECK(c.str(key) == d.str(key));
    CHECK_THAT(c.source(key), Catch::StartsWith("file "));
  }
}

TEST_CASE("config: an empty YAML file is an empty config", "[config]") {
  TempDir dir;
  const Config c = Config::load(dir.write("empty.yaml", ""), kNoEnv, {});
  CHECK(c.integer("server.port") == 8080);
  CHECK(c.source("server.port") == "default");
}

TEST_CASE("config: bad YAML values throw ConfigError naming the key", "[config]") {
  struct Row {
    const char* yaml;
    const char* key;
    const char* what;  // substring of what()
  };
  const Row rows[] = {
      {"server:\n  prot: 1\n", "server.prot", "unknown key"},
      {"nope: 1\n", "nope", "unknown key"},
      {"server: 5\n", "server", "unknown key"},
      {"server:\n  port: abc\n", "server.port", "expected an integer"},
      {"server.port: abc\n", "server.port", "expected an integer"},
      {"server:\n  port: 80.5\n", "server.port", "expected an integer"},
      {"server:\n  port: 70000\n", "server.port", "out of range"},
      {"server:\n  port: -1\n", "server.port", "out of range"},
      {"server:\n  port:\n", "server.port", "expected an integer"},
      {"rooms:\n  ttl_s: 0\n", "rooms.ttl_s", "out of range"},
      {"log:\n  level: loud\n", "log.level", "expected one of debug|info|warn|error|off"},
      {"log:\n  format: INFO\n", "log.format", "expected one of"},
      {"server:\n  io_uring: on\n", "server.io_uring", "expected one of auto|off"},
      {"server:\n  port: [1, 2]\n", "server.port", "not a list"},
      {"server:\n  bogus: [1, 2]\n", "server.bogus", "unknown key"},
  };
  TempDir dir;
  int n = 0;
  for (const auto& row : rows) {
    INFO(row.yaml);
    const std::string file = dir.write("bad" + std::to_string(n++) + ".yaml", row.yaml);
    const ConfigError e = config_error([&] { Config::load(file, kNoEnv, {}); });
    CHECK(e.key() == row.key);
    CHECK_THAT(e.what(), Catch::Contains(row.what));
    CHECK_THAT(e.what(), Catch::StartsWith(std::string(row.key) + ": "));
  }
}

TEST_CASE("config: missing, unparsable and non-mapping files", "[config]") {
  TempDir dir;
  const std::string missing = dir.path("nope.yaml");
  ConfigError e = config_error([&] { Config::load(missing, kNoEnv, {}); });
  CHECK(e.key().empty());
  CHECK_THAT(e.what(), Catch::Contains("not found") && Catch::Contains(missing));

  const std::string broken = dir.write("broken.yaml", "server: [unclosed\n  port: : :\n");
  e = config_error([&] { Config::load(broken, kNoEnv, {}); });
  CHECK(e.key().empty());
  CHECK_THAT(e.what(), Catch::Contains("cannot parse") && Catch::Contains(broken));

  const std::string list = dir.write("list.yaml", "- a\n- b\n");
  e = config_error([&] { Config::load(list, kNoEnv, {}); });
  CHECK_THAT(e.what(), Catch::Contains("mapping"));
}

TEST_CASE("config: bad env and flag values name the key and the source", "[config]") {
  struct Row {
    std::map<std::string, std::string> env;
    ConfigOverrides flags;
    const char* key;
    const char* what;
  };
  const Row rows[] = {
      {{{"MTOWN_SERVER_PORT", "abc"}}, {}, "server.port", "env MTOWN_SERVER_PORT"},
      {{{"MTOWN_LOG_LEVEL", "loud"}}, {}, "log.level", "env MTOWN_LOG_LEVEL"},
      {{}, {{"server.port", "70000"}}, "server.port", "from flag"},
      {{}, {{"server.port", "8080x"}}, "server.port", "expected an integer"},
      {{}, {{"server.port", ""}}, "server.port", "expected an integer"},
      {{}, {{"server.prot", "1"}}, "server.prot", "unknown key"},
      {{}, {{"log.level", "Info"}}, "log.level", "expected one of"},
  };
  for (const auto& row : rows) {
    INFO(row.key << " " << row.what);
    const ConfigError e = config_error([&] { Config::load("", env_from(row.env), row.flags); });
    CHECK(e.key() == row.key);
    CHECK_THAT(e.what(), Catch::Contains(row.what));
  }
}

TEST_CASE("config: to_yaml shows every value and where it came from", "[config]") {
  TempDir dir;
  const std::string file = dir.write("m.yaml", "rooms:\n  max_rooms: 7\n");
  const Config c = Config::load(file, env_from({{"MTOWN_LOG_LEVEL", "debug"}}),
                                {{"server.port", "9200"}, {"server.host", "a\"b\\c"}});
  const std::string y = c.to_yaml();
  CHECK_THAT(y, Catch::Contains("server:\n"));
  CHECK_THAT(y, Catch::Contains("  port: 9200  # flag\n"));
  CHECK_THAT(y, Catch::Contains("  host: \"a\\\"b\\\\c\"  # flag\n"));
  CHECK_THAT(y, Catch::Contains("  level: \"debug\"  # env MTOWN_LOG_LEVEL\n"));
  CHECK_THAT(y, Catch::Contains("  max_rooms: 7  # file " + file + "\n"));
  CHECK_THAT(y, Catch::Contains("  ttl_s: 14400  # default\n"));
  CHECK_THAT(y, Catch::Contains("  url: \"\"  # default\n"));

  // The output is itself a valid config file that reproduces every value.
  const Config again = Config::load(dir.write("again.yaml", y), kNoEnv, {});
  for (const auto& k : mtown::core::serve_config_keys()) {
    const std::string key(k.key);
    INFO(key);
    CHECK(again.str(key) == c.str(key));
  }
}

TEST_CASE("config: ServeConfig::from types every value", "[config]") {
  const Config c = Config::load("", env_from({{"MTOWN_REDIS_URL", "redis://127.0.0.1:6390/2"}}),
                                {{"server.host", "::1"},
                                 {"server.port", "65535"},
                                 {"server.threads", "3"},
                                 {"server.shutdown_timeout_ms", "250"},
                                 {"server.io_uring", "off"},
                                 {"log.level", "error"},
                                 {"log.format", "text"},
                                 {"rooms.max_rooms", "12"},
                                 {"rooms.empty_grace_s", "0"},
                                 {"rooms.ttl_s", "60"},
                                 {"limits.max_connections", "99"},
                                 {"limits.max_frame_bytes", "4096"},
                                 {"limits.write_queue_max_bytes", "8192"},
                                 {"limits.chat_max_chars", "50"},
                                 {"database.url", "none"}});
  const auto s = mtown::core::ServeConfig::from(c);
  CHECK(s.host == "::1");
  CHECK(s.port == 65535);
  CHECK(s.threads == 3);
  CHECK(s.shutdown_timeout_ms == 250);
  CHECK_FALSE(s.io_uring);
  CHECK(s.log_level == "error");
  CHECK(s.log_format == "text");
  CHECK(s.max_rooms == 12);
  CHECK(s.room_empty_grace_s == 0);
  CHECK(s.room_ttl_s == 60);
  CHECK(s.max_connections == 99);
  CHECK(s.max_frame_bytes == 4096);
  CHECK(s.write_queue_max_bytes == 8192);
  CHECK(s.chat_max_chars == 50);
  CHECK(s.database_url == "none");
  CHECK(s.redis_url == "redis://127.0.0.1:6390/2");

  const auto d = mtown::core::ServeConfig::from(Config::defaults());
  CHECK(d.port == 8080);
  CHECK(d.write_queue_max_bytes == 1048576);
  CHECK(d.room_ttl_s == 14400);
  CHECK(d.io_uring);
}

TEST_CASE("config: session keys, and a heartbeat timeout must exceed the interval", "[config]") {
  const auto d = mtown::core::ServeConfig::from(Config::defaults());
  CHECK(d.resume_buffer_messages == 100);
  CHECK(d.resume_buffer_ms == 5000);
  CHECK(d.seat_grace_s == 300);
  CHECK(d.heartbeat_interval_ms == 30000);
  CHECK(d.heartbeat_timeout_ms == 60000);
  const auto c = Config::load("", kNoEnv, {{"session.heartbeat_interval_ms", "2000"}, {"session.heartbeat_timeout_ms", "2000"}});
  try {
    mtown::core::ServeConfig::from(c);
    FAIL("a timeout equal to the interval was accepted");
  } catch (const ConfigError& e) {
    CHECK(e.key() == "session.heartbeat_timeout_ms");
  }
}

TEST_CASE("config: tls.cert_file and tls.key_file are set together or not at all", "[config]") {
  const auto d = mtown::core::ServeConfig::from(Config::defaults());
  CHECK(d.tls_cert_file.empty());
  CHECK(d.tls_key_file.empty());
  const auto both = mtown::core::ServeConfig::from(Config::load("", kNoEnv, {{"tls.cert_file", "c.pem"}, {"tls.key_file", "k.pem"}}));
  CHECK(both.tls_cert_file == "c.pem");
  CHECK(both.tls_key_file == "k.pem");
  for (const auto& [set, missing] : {std::pair{"tls.cert_file", "tls.key_file"}, std::pair{"tls.key_file", "tls.cert_file"}}) {
    try {
      mtown::core::ServeConfig::from(Config::load("", kNoEnv, {{set, "x.pem"}}));
      FAIL(set << " alone was accepted");
    } catch (const ConfigError& e) {
      CHECK(e.key() == missing);
    }
  }
}
