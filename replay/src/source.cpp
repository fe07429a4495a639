#include "mtown/replay/source.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace mtown::replay {
namespace {

class FileSource final : public RecordingSource {
 public:
  explicit FileSource(std::string path) : path_(std::move(path)) {}

  core::Recording load() override {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path_, ec))
      throw SourceError(SourceErrorKind::not_found, "no recording file " + path_);
    std::ifstream in(path_, std::ios::binary);
    if (!in) throw SourceError(SourceErrorKind::not_found, "cannot read " + path_ + ": " + std::strerror(errno));
    const std::string text(std::istreambuf_iterator<char>(in), {});
    try {
      return core::from_mtrec(text);
    } catch (const core::RecordingError& e) {
      throw core::RecordingError(e.kind(), path_ + ": " + e.what());
    }
  }

 private:
  std::string path_;
};

}  // namespace

std::unique_ptr<RecordingSource> file_source(std::string path) { return std::make_unique<FileSource>(std::move(path)); }

}  // namespace mtown::replay
