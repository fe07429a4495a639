// Files compiled into the binary at build time (see cmake/embed_files.cmake).
#pragma once
#include <string_view>
#include <vector>

namespace mtown::core::embedded {

struct File {
  std::string_view path;  // relative to schemas/
  std::string_view text;
};

// The client message schemas of protocol v1 (schemas/protocol/v1/client/*.json).
const std::vector<File>& protocol_schemas();

}  // namespace mtown::core::embedded
