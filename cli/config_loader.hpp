// Loading the layered config the way every server-side subcommand does: --config FILE,
// else $MTOWN_CONFIG, else ./mtown.yaml if present; then MTOWN_* variables; then flags.
#pragma once
#include <string>
#include <vector>

#include "commands.hpp"
#include "mtown/core/config.hpp"

namespace mtown::cli {

// `sets` are --set key=value strings; `overrides` come from shortcut flags (--port ...).
// Throws core::ConfigError naming the key.
core::Config load_config(const std::string& config_path, const std::vector<std::string>& sets,
                         core::ConfigOverrides overrides = {});

// `run`, with a core::ConfigError it throws reported as "mtown SUBCOMMAND: config error: ..."
// and exit code kExitUsage.
Command config_checked(const char* subcommand, Command run);

}  // namespace mtown::cli
