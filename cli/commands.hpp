// Each subcommand registers its flags on the app and returns the function that runs it.
#pragma once
#include <functional>

#include <CLI/CLI.hpp>

namespace mtown::cli {

using Command = std::function<int()>;

// Exit codes shared by every subcommand (a subcommand documents its own from 3 up).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

Command add_serve(CLI::App& app);
Command add_migrate(CLI::App& app);
Command add_replay(CLI::App& app);
Command add_inspect(CLI::App& app);
Command add_loadtest(CLI::App& app);
Command add_token(CLI::App& app);

}  // namespace mtown::cli
