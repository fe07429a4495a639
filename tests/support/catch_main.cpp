// Shared Catch2 main. In-process logging is off: the code under test logs to stderr,
// which would bury test output; integration tests read the server's own log instead.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "mtown/core/log.hpp"

int main(int argc, char* argv[]) {
  mtown::core::Logger::instance().configure(mtown::core::LogLevel::off, mtown::core::LogFormat::json);
  return Catch::Session().run(argc, argv);
}
