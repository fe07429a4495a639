#include "config_loader.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace mtown::cli {

core::Config load_config(const std::string& config_path, const std::vector<std::string>& sets,
                         core::ConfigOverrides overrides) {
  for (const auto& s : sets) {
    const auto eq = s.find('=');
    if (eq == std::string::npos) throw core::ConfigError(s, "--set takes key=value");
    overrides.emplace_back(s.substr(0, eq), s.substr(eq + 1));
  }
  std::string path = config_path;
  if (path.empty() && std::getenv("MTOWN_CONFIG")) path = std::getenv("MTOWN_CONFIG");
  if (path.empty() && std::filesystem::exists("mtown.yaml")) path = "mtown.yaml";
  return core::Config::load(path, [](const char* n) { return std::getenv(n); }, overrides);
}

Command config_checked(const char* subcommand, Command run) {
  return [subcommand, run = std::move(run)] {
    try {
      return run();
    } catch (const core::ConfigError& e) {
      std::fprintf(stderr, "mtown %s: config error: %s\n", subcommand, e.what());
      return kExitUsage;
    }
  };
}

}  // namespace mtown::cli
