// Where `mtown replay` gets a recording: a .mtrec file, or a game's rows in the database
// (games + game_events). Each source either returns the whole recording or throws a
// core::RecordingError (a damaged or too new recording) or a SourceError.
#pragma once
#include <memory>
#include <stdexcept>
#include <string>

#include "mtown/core/recording.hpp"

namespace mtown::replay {

enum class SourceErrorKind { not_found, unavailable };

class SourceError : public std::runtime_error {
 public:
  SourceError(SourceErrorKind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  SourceErrorKind kind() const { return kind_; }

 private:
  SourceErrorKind kind_;
};

class RecordingSource {
 public:
  virtual ~RecordingSource() = default;
  virtual core::Recording load() = 0;
  virtual std::string describe() const = 0;  // for messages: "file x.mtrec", "game g_1 in sqlite:..."
};

std::unique_ptr<RecordingSource> file_source(std::string path);

}  // namespace mtown::replay
