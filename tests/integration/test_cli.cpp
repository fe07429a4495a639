// The `mtown` command line: version/help, exit codes, and `serve`'s layered configuration
// (defaults < YAML < MTOWN_* environment < flags) as shown by --print-config.
#include <catch2/catch.hpp>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "mtown/core/config_schema.hpp"
#include "temp_dir.hpp"
#include "test_server.hpp"

using namespace mtown::test;

namespace {

struct Entry {
  std::string value;
  std::string source;
};

// Parses --print-config output ("section:\n  key: value  # source") into dotted keys.
std::map<std::string, Entry> parse_print_config(const std::string& out) {
  std::map<std::string, Entry> entries;
  std::istringstream lines(out);
  std::string section;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    if (line[0] != ' ') {
      REQUIRE(line.back() == ':');
      section = line.substr(0, line.size() - 1);
      continue;
    }
    const auto colon = line.find(": ");
    const auto hash = line.rfind("  # ");
    INFO(line);
    REQUIRE(colon != std::string::npos);
    REQUIRE(hash != std::string::npos);
    const auto key = section + "." + line.substr(2, colon - 2);
    entries[key] = {line.substr(colon + 2, hash - colon - 2), line.substr(hash + 4)};
  }
  return entries;
}

std::map<std::string, Entry> print_config(const std::vector<std::string>& extra,
                                          const std::map<std::string, std::string>& env = {},
                                          const std::string& cwd = {}) {
  std::vector<std::string> args{"serve", "--print-config"};
  args.insert(args.end(), extra.begin(), extra.end());
  const auto r = run_mtown(args, env, cwd);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return parse_print_config(r.out);
}

// Runs `mtown serve ARGS --print-config`, which must fail with exit 2 naming `needle` on stderr.
void expect_config_error(const std::vector<std::string>& args, const std::string& needle,
                         const std::map<std::string, std::string>& env = {}) {
  std::vector<std::string> argv{"serve"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--print-config");
  const auto r = run_mtown(argv, env);
  INFO("stderr: " << r.err << "\nstdout: " << r.out);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(needle) != std::string::npos);
  CHECK(r.out.empty());
}

}  // namespace

TEST_CASE("mtown --version, --help and usage errors", "[cli]") {
  SECTION("--version") {
    const auto r = run_mtown({"--version"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("mtown 0.1.0") != std::string::npos);
#if defined(MTOWN_SANITIZE_ADDRESS) || defined(MTOWN_SANITIZE_THREAD)
    CHECK(r.out.find("(system malloc)") != std::string::npos);  // a sanitizer's allocator, never jemalloc
#else
    CHECK((r.out.find("(jemalloc)") != std::string::npos || r.out.find("(system malloc)") != std::string::npos));
#endif
  }
  SECTION("--help lists serve") {
    const auto r = run_mtown({"--help"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("serve") != std::string::npos);
  }
  SECTION("serve --help lists --port") {
    const auto r = run_mtown({"serve", "--help"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("--port") != std::string::npos);
    CHECK(r.out.find("--print-config") != std::string::npos);
  }
  SECTION("no subcommand is a usage error") {
    const auto r = run_mtown({});
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK_FALSE(r.err.empty());
  }
  SECTION("an unknown flag is a usage error") {
    for (const auto& args : std::vector<std::vector<std::string>>{{"--frobnicate", "serve"}, {"serve", "--frobnicate"}}) {
      const auto r = run_mtown(args);
      INFO(args.front() << " " << args.back() << ": " << r.err);
      CHECK(r.exit_code == 2);
      CHECK(r.err.find("--frobnicate") != std::string::npos);
    }
    CHECK(run_mtown({"--frobnicate"}).exit_code == 2);  // CLI11 reports the missing subcommand first
  }
}

TEST_CASE("serve --print-config prints every key with its source", "[cli][config]") {
  const auto entries = print_config({});
  const auto keys = mtown::core::serve_config_keys();
  CHECK(entries.size() == keys.size());
  for (const auto& k : keys) {
    const std::string key(k.key);
    INFO(key);
    REQUIRE(entries.count(key) == 1);
    CHECK(entries.at(key).source == "default");
    const std::string def(k.default_value);
    const auto& value = entries.at(key).value;
    CHECK((value == def || value == "\"" + def + "\""));
  }
}

TEST_CASE("serve configuration layers: file < env < flag", "[cli][config]") {
  TempDir dir;
  const auto file = dir.write("custom.yaml", "server:\n  port: 9001\nrooms:\n  ttl_s: 120\n");
  const std::map<std::string, std::string> env{{"MTOWN_SERVER_PORT", "9002"}};

  SECTION("the file sets server.port") {
    const auto e = print_config({"--config", file});
    CHECK(e.at("server.port").value == "9001");
    CHECK(e.at("server.port").source == "file " + file);
    CHECK(e.at("rooms.ttl_s").value == "120");
    CHECK(e.at("server.host").source == "default");
  }
  SECTION("the environment beats the file") {
    const auto e = print_config({"--config", file}, env);
    CHECK(e.at("server.port").value == "9002");
    CHECK(e.at("server.port").source == "env MTOWN_SERVER_PORT");
    CHECK(e.at("rooms.ttl_s").source == "file " + file);
  }
  SECTION("a flag beats both") {
    const auto e = print_config({"--config", file, "--port", "9003"}, env);
    CHECK(e.at("server.port").value == "9003");
    CHECK(e.at("server.port").source == "flag");
  }
  SECTION("--set sets any key") {
    const auto e = print_config({"--config", file, "--set", "rooms.ttl_s=600", "--set", "log.level=debug"});
    CHECK(e.at("rooms.ttl_s").value == "600");
    CHECK(e.at("rooms.ttl_s").source == "flag");
    CHECK(e.at("log.level").value == "\"debug\"");
    CHECK(e.at("server.port").value == "9001");
  }
  SECTION("MTOWN_CONFIG names the file") {
    const auto e = print_config({}, {{"MTOWN_CONFIG", file}});
    CHECK(e.at("server.port").value == "9001");
    CHECK(e.at("server.port").source == "file " + file);
  }
  SECTION("./mtown.yaml in the working directory is read by default") {
    dir.write("mtown.yaml", "server:\n  port: 9004\n");
    const auto e = print_config({}, {}, dir.path);
    CHECK(e.at("server.port").value == "9004");
    CHECK(e.at("server.port").source == "file mtown.yaml");
    const auto flagged = print_config({"--port", "9005"}, {}, dir.path);
    CHECK(flagged.at("server.port").value == "9005");
  }
}

TEST_CASE("serve refuses bad configuration values with exit 2 naming the key", "[cli][config]") {
  TempDir dir;
  SECTION("--port out of range") { expect_config_error({"--port", "70000"}, "server.port"); }
  SECTION("--port not a number") { expect_config_error({"--port", "abc"}, "server.port"); }
  SECTION("MTOWN_SERVER_PORT=-1") { expect_config_error({}, "server.port", {{"MTOWN_SERVER_PORT", "-1"}}); }
  SECTION("a YAML key that does not exist") {
    expect_config_error({"--config", dir.write("typo.yaml", "server: {prot: 1}\n")}, "server.prot");
  }
  SECTION("a YAML value of the wrong type") {
    expect_config_error({"--config", dir.write("list.yaml", "server:\n  port: [1, 2]\n")}, "server.port");
    expect_config_error({"--config", dir.write("word.yaml", "rooms:\n  ttl_s: soon\n")}, "rooms.ttl_s");
  }
  SECTION("--set with an unknown key") { expect_config_error({"--set", "nope=1"}, "nope"); }
  SECTION("--set without =") { expect_config_error({"--set", "rooms.ttl_s"}, "rooms.ttl_s"); }
  SECTION("--log-level not a level") { expect_config_error({"--log-level", "loud"}, "log.level"); }
  SECTION("--database with an unknown scheme") { expect_config_error({"--database", "mysql://x"}, "database.url"); }
  SECTION("--redis that is not redis://") { expect_config_error({"--redis", "http://x"}, "redis.url"); }
  SECTION("a --config file that does not exist") {
    expect_config_error({"--config", dir.path + "/missing.yaml"}, "missing.yaml");
  }
  SECTION("a --config file that is not YAML") {
    expect_config_error({"--config", dir.write("broken.yaml", "server: {port: 1\n  ]]: [\n")}, "broken.yaml");
  }
}

TEST_CASE("serve on a port already in use exits 3 with a message", "[cli]") {
  TestServer server({"--database", "none"});
  const auto r = run_mtown({"serve", "--dev", "--port", std::to_string(server.port()), "--database", "none", "--log-format", "json"});
  INFO(r.err);
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("cannot_listen") != std::string::npos);
  CHECK(r.err.find(std::to_string(server.port())) != std::string::npos);
  CHECK(server.running());
}
