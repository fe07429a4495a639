// Files for integration tests: a temp directory removed with everything in it at scope
// exit, and a bounded wait for a file another process writes.
#pragma once
#include <catch2/catch.hpp>

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace mtown::test {

struct TempDir {
  std::string path;
  explicit TempDir(const std::string& prefix = "mtown-test") {
    std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string file(const std::string& name) const { return path + "/" + name; }
  // Writes `text` to NAME in the directory; returns the file's path.
  std::string write(const std::string& name, const std::string& text) const {
    const std::string f = file(name);
    std::ofstream(f) << text;
    return f;
  }
};

// Waits up to `timeout` for `path` to exist (e.g. a recording the server's writer puts on
// disk); fails the test otherwise. Returns `path`.
inline std::string wait_for_file(const std::string& path, std::chrono::seconds timeout = std::chrono::seconds(15)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!std::filesystem::exists(path)) {
    if (std::chrono::steady_clock::now() > deadline) FAIL("no file " << path);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return path;
}

}  // namespace mtown::test
