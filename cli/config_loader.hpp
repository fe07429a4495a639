// Loading the layered config the way every server-side subcommand does: --config FILE,
// else $MTOWN_CONFIG, else ./mtown.yaml if present; then MTOWN_* variables; then flags.
#pragma once
#include <string>
#include <vector>

#include "mtown/core/config.hpp"

namespace mtown::cli {

// `sets` are --set key=value strings; `overrides` come from shortcut flags (--port ...).
// Throws core::ConfigError naming the key.
core::Config load_config(const std::string& config_path, const std::vector<std::string>& sets,
                         core::ConfigOverrides overrides = {});

}  // namespace mtown::cli
