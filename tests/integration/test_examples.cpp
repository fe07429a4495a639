// The shipped examples must stay true: examples/mtown.yaml sets every key the server
// knows, to its default, and loads without error.
#include <catch2/catch.hpp>

#include "mtown/core/config_schema.hpp"
#include "test_server.hpp"

using namespace mtown::test;

TEST_CASE("examples/mtown.yaml documents every key with its default", "[examples]") {
  const auto file = source_dir() + "/examples/mtown.yaml";
  const auto with_file = run_mtown({"serve", "--config", file, "--print-config"});
  REQUIRE(with_file.exit_code == 0);
  const auto defaults = run_mtown({"serve", "--print-config"});
  REQUIRE(defaults.exit_code == 0);
  for (const auto& key : mtown::core::serve_config_keys()) {
    const std::string k(key.key);
    const auto section = k.substr(0, k.find('.'));
    const auto leaf = k.substr(k.find('.') + 1);
    INFO(k);
    // Every key comes from the file...
    const auto section_start = ("\n" + with_file.out).find("\n" + section + ":\n");
    REQUIRE(section_start != std::string::npos);
    const auto line_start = with_file.out.find("  " + leaf + ": ", section_start);
    REQUIRE(line_start != std::string::npos);
    const auto line = with_file.out.substr(line_start, with_file.out.find('\n', line_start) - line_start);
    CHECK(line.find("# file ") != std::string::npos);
    // ...with the same value the built-in default has.
    const auto value = line.substr(0, line.find("  #"));
    const auto default_section = ("\n" + defaults.out).find("\n" + section + ":\n");
    CHECK(defaults.out.find(value + "  # default", default_section) != std::string::npos);
  }
}
