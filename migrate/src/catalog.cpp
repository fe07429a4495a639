// The embedded migration catalog, checksums, statement splitting and `create`.
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <map>
#include <regex>

#include "backend.hpp"

namespace mtown::migrate {
namespace {

// "sqlite/0002_game_events_kind.up.sql" -> dialect dir, version, name, up?
const std::regex kFileName(R"(^([a-z]+)/([0-9]{4})_([a-z0-9_]+)\.(up|down)\.sql$)");

std::vector<Migration> load(Dialect d) {
  std::map<int, Migration> by_version;
  for (const auto& f : core::embedded::migration_files()) {
    std::string path(f.path);
    std::smatch m;
    if (!std::regex_match(path, m, kFileName))
      throw Error(ExitCode::failed, "embedded migration file with a bad name: " + path);
    if (m[1] != dialect_name(d)) continue;
    auto& mig = by_version[std::stoi(m[2])];
    mig.version = std::stoi(m[2]);
    if (!mig.name.empty() && mig.name != m[3])
      throw Error(ExitCode::failed, "two names for migration " + std::string(m[2]) + ": " + mig.name + ", " + std::string(m[3]));
    mig.name = m[3];
    if (m[4] == "up") {
      mig.up_path = path;
      mig.up_sql = f.text;
      mig.checksum = sha256_hex(f.text);
    } else {
      mig.down_path = path;
      mig.down_sql = f.text;
    }
  }
  std::vector<Migration> out;
  for (auto& [v, mig] : by_version) {
    if (mig.up_path.empty() || mig.down_path.empty())
      throw Error(ExitCode::failed, "migration " + mig.label() + " lacks its " + (mig.up_path.empty() ? "up" : "down") + " file");
    out.push_back(std::move(mig));
  }
  return out;
}

int highest_version(const std::filesystem::path& dir) {
  int highest = 0;
  std::error_code ec;
  for (const char* sub : {"sqlite", "postgres"}) {
    if (!std::filesystem::is_directory(dir / sub, ec)) continue;
    for (const auto& e : std::filesystem::directory_iterator(dir / sub, ec)) {
      const auto name = e.path().filename().string();
      if (name.size() > 5 && std::all_of(name.begin(), name.begin() + 4, ::isdigit) && name[4] == '_')
        highest = std::max(highest, std::stoi(name.substr(0, 4)));
    }
  }
  return highest;
}

}  // namespace

const char* dialect_name(Dialect d) { return d == Dialect::sqlite ? "sqlite" : "postgres"; }

const char* state_name(State s) {
  switch (s) {
    case State::ok: return "ok";
    case State::changed: return "changed";
    case State::missing: return "missing";
    case State::pending: return "pending";
  }
  return "?";
}

std::string version_label(int version, const std::string& name) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d", version);
  return std::string(buf) + "_" + name;
}

std::string Migration::label() const { return version_label(version, name); }

const std::vector<Migration>& embedded_migrations(Dialect d) {
  static const std::vector<Migration> sqlite = load(Dialect::sqlite);
  static const std::vector<Migration> postgres = load(Dialect::postgres);
  return d == Dialect::sqlite ? sqlite : postgres;
}

std::string sha256_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha256(), nullptr) != 1)
    throw Error(ExitCode::failed, "sha256 failed");
  std::string hex;
  for (unsigned i = 0; i < len; ++i) {
    char b[3];
    std::snprintf(b, sizeof b, "%02x", digest[i]);
    hex += b;
  }
  return hex;
}

std::vector<std::string> split_statements(std::string_view sql) {
  std::vector<std::string> out;
  std::string cur;
  bool has_code = false;
  const auto flush = [&] {
    if (has_code) out.push_back(cur);
    cur.clear();
    has_code = false;
  };
  for (std::size_t i = 0; i < sql.size();) {
    const char c = sql[i];
    std::size_t end = i + 1;
    if (c == '-' && sql.substr(i, 2) == "--") {
      end = sql.find('\n', i);
      end = end == std::string_view::npos ? sql.size() : end;
    } else if (c == '/' && sql.substr(i, 2) == "/*") {
      end = sql.find("*/", i + 2);
      end = end == std::string_view::npos ? sql.size() : end + 2;
    } else if (c == '\'' || c == '"') {
      end = i + 1;
      while (end < sql.size() && !(sql[end] == c && (end + 1 >= sql.size() || sql[end + 1] != c))) end += sql[end] == c ? 2 : 1;
      end = std::min(end + 1, sql.size());
      has_code = true;
    } else if (c == '$') {
      const auto close = sql.find('$', i + 1);
      const auto tag = close == std::string_view::npos ? std::string_view{} : sql.substr(i, close - i + 1);
      const bool is_tag = !tag.empty() && std::all_of(tag.begin() + 1, tag.end() - 1, [](char t) { return std::isalnum(t) || t == '_'; });
      if (is_tag) {
        end = sql.find(tag, close + 1);
        end = end == std::string_view::npos ? sql.size() : end + tag.size();
      }
      has_code = true;
    } else if (c == ';') {
      cur += c;
      flush();
      i = end;
      continue;
    } else if (!std::isspace(static_cast<unsigned char>(c))) {
      has_code = true;
    }
    cur.append(sql.substr(i, end - i));
    i = end;
  }
  flush();
  for (auto& s : out) {  // trim
    const auto b = s.find_first_not_of(" \t\r\n");
    s = s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
  }
  return out;
}

std::vector<std::filesystem::path> create_migration_files(const std::filesystem::path& dir, const std::string& name) {
  if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) { return std::islower(c) || std::isdigit(c) || c == '_'; }))
    throw Error(ExitCode::usage, "migration name must be lower_snake_case ([a-z0-9_]+), got \"" + name + "\"");
  const std::string label = version_label(highest_version(dir) + 1, name);
  std::vector<std::filesystem::path> written;
  for (const char* sub : {"sqlite", "postgres"}) {
    std::error_code ec;
    std::filesystem::create_directories(dir / sub, ec);
    for (const char* way : {"up", "down"}) {
      const auto path = dir / sub / (label + "." + way + ".sql");
      std::ofstream out(path);
      out << "-- " << label << " (" << sub << ", " << way << ")\n";
      if (!out) throw Error(ExitCode::failed, "cannot write " + path.string());
      written.push_back(path);
    }
  }
  return written;
}

void throw_statement_failed(const Migration& m, bool up, const std::string& statement, const std::string& db_message) {
  std::string msg = "migration " + m.label() + (up ? " (up)" : " (down)") + " failed and was rolled back\n" +
                    "  file: " + (up ? m.up_path : m.down_path) + "\n  statement: " + statement + "\n  database: " + db_message;
  while (!msg.empty() && msg.back() == '\n') msg.pop_back();
  throw Error(ExitCode::failed, msg);
}

}  // namespace mtown::migrate
