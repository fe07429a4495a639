// `mtown serve` as a library call: binds, runs the io threads, and shuts down gracefully
// on SIGINT/SIGTERM. The CLI only parses flags and calls run_server().
#pragma once
#include "mtown/core/config.hpp"

namespace mtown::server {

// Exit codes of `mtown serve` (documented in README.md).
enum ServeExit : int {
  serve_ok = 0,
  serve_failed = 1,
  serve_bad_config = 2,
  serve_cannot_listen = 3,
  serve_pending_migrations = 4,  // checked by the CLI before run_server
  serve_changed_migration = 5,   // an applied migration's checksum differs (CLI, before run_server)
  serve_newer_database = 6,      // versions applied that this binary does not know (CLI, before run_server)
};

int run_server(const core::ServeConfig& config);

}  // namespace mtown::server
