// Files compiled into the binary at build time (see cmake/embed_files.cmake).
#pragma once
#include <string_view>
#include <vector>

namespace mtown::core::embedded {

struct File {
  std::string_view path;  // relative to the embedded folder
  std::string_view text;
};

// The client message schemas of protocol v1 (schemas/protocol/v1/client/*.json).
const std::vector<File>& protocol_schemas();
// examples/questions.json, the built-in party question pool (defined in mtown_games).
const std::vector<File>& example_files();

}  // namespace mtown::core::embedded
