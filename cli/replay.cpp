// `mtown replay`: flags -> a recording source (a .mtrec file or the database) -> the
// replay library (verify, print a state, timeline, export, serve) -> an exit code.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "mtown/core/log.hpp"
#include "mtown/replay/replay_server.hpp"
#include "mtown/replay/report.hpp"
#include "mtown/replay/source.hpp"
#include "mtown/server/mtrec_writer.hpp"

namespace mtown::cli {
namespace {

using nlohmann::json;

// Exit codes of `mtown replay` (README.md, docs/replay.md).
enum ReplayExit {
  kReplayDiverged = 3,
  kReplayNotFound = 4,
  kReplayCorrupt = 5,
  kReplayNewerFormat = 6,
  kReplayUnknownGame = 7,
  kReplayDatabase = 8,
  kReplayCannotListen = 9,
};

struct ReplayFlags {
  std::string target;  // FILE.mtrec or GAME_ID
  std::string database;
  std::optional<core::Tick> until, print_state;
  bool timeline = false, json_out = false, serve = false;
  std::string export_path;
  double speed = 1.0;
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string log_format = "auto", log_level = "info";
  int limit = 50;
};

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::unique_ptr<replay::RecordingSource> source_for(const ReplayFlags& f) {
  const bool looks_like_file = f.target.ends_with(".mtrec") || f.target.find('/') != std::string::npos ||
                               std::filesystem::exists(f.target);
  if (looks_like_file) return replay::file_source(f.target);
  if (f.database.empty()) throw UsageError("a game id needs --database URL (or $MTOWN_DATABASE_URL); or give a .mtrec file");
  return replay::database_source(f.database, f.target);
}

int print_report(const ReplayFlags& f, const core::Recording& rec) {
  replay::ReplayOptions options{f.until, f.print_state, f.timeline};
  const auto report = replay::replay_recording(rec, options);
  if (f.json_out) {
    std::printf("%s\n", replay::report_json(report).dump().c_str());
  } else {
    // The asked-for state alone on stdout (pipe it to jq); the summary then goes to stderr.
    std::FILE* summary = report.state ? stderr : stdout;
    if (report.state) std::printf("%s\n", report.state->dump(2).c_str());
    for (const auto& e : report.timeline)
      std::printf("%-12s tick %-7llu %-7s %s\n", replay::format_game_time(e.ms).c_str(),
                  static_cast<unsigned long long>(e.tick), e.kind.c_str(), e.text.c_str());
    std::fputs(replay::report_text(report).c_str(), summary);
  }
  return report.verified() ? kExitOk : kReplayDiverged;
}

int run(const ReplayFlags& f) {
  if (f.target.empty()) throw UsageError("give a FILE.mtrec or a GAME_ID (with --database), or use `mtown replay list`");
  if (f.until && f.print_state && *f.print_state > *f.until)
    throw UsageError("--print-state " + std::to_string(*f.print_state) + " is after --until " + std::to_string(*f.until));
  auto source = source_for(f);
  const auto rec = source->load();
  if (!f.export_path.empty()) {
    server::write_mtrec_file(f.export_path, rec);
    std::printf("exported %s (%zu records) to %s\n", rec.header.game_id.c_str(), rec.entries.size() + 1,
                f.export_path.c_str());
    return kExitOk;
  }
  if (f.serve) {
    core::Logger::instance().configure(*core::parse_log_level(f.log_level), *core::parse_log_format(f.log_format));
    replay::ServeOptions options{f.host, static_cast<std::uint16_t>(f.port), f.speed};
    return replay::serve_recording(rec, options) ? kExitOk : kReplayCannotListen;
  }
  return print_report(f, rec);
}

std::string players_text(const json& players) {
  std::string out;
  for (const auto& p : players) {
    if (!out.empty()) out += ", ";
    out += p.contains("name") && p["name"].is_string() ? p["name"].get<std::string>() : std::string("?");
    if (p.value("ai", false)) out += " (AI)";
  }
  return out;
}

std::string result_text(const replay::RecordedGame& g) {
  if (!g.result.is_object() || !g.result.contains("winner") || g.result["winner"].is_null()) return g.status;
  for (const auto& p : g.result.value("standings", json::array()))
    if (p.value("player_id", "") == g.result["winner"]) return "winner " + p.value("name", std::string("?"));
  return "winner " + g.result["winner"].dump();
}

int run_list(const ReplayFlags& f) {
  if (f.database.empty()) throw UsageError("mtown replay list needs --database URL (or $MTOWN_DATABASE_URL)");
  const auto games = replay::list_database(f.database, f.limit);
  if (f.json_out) {
    json out = json::array();
    for (const auto& g : games) out.push_back(replay::recorded_game_json(g));
    std::printf("%s\n", out.dump().c_str());
    return kExitOk;
  }
  std::printf("%-20s %-6s %-24s %9s %8s  %-14s %s\n", "GAME_ID", "GAME", "STARTED", "DURATION", "TICKS", "RESULT", "PLAYERS");
  for (const auto& g : games) {
    const auto duration = g.duration_ms < 0 ? std::string("-") : replay::format_game_time(g.duration_ms).substr(1);
    std::printf("%-20s %-6s %-24s %9s %8llu  %-14s %s\n", g.game_id.c_str(), g.game.c_str(), g.started_at.c_str(),
                duration.c_str(), static_cast<unsigned long long>(g.ticks), result_text(g).c_str(),
                players_text(g.players).c_str());
  }
  return kExitOk;
}

int guarded(const std::function<int()>& body) {
  try {
    return body();
  } catch (const UsageError& e) {
    std::fprintf(stderr, "mtown replay: %s\n", e.what());
    return kExitUsage;
  } catch (const std::out_of_range& e) {  // --print-state past the end
    std::fprintf(stderr, "mtown replay: %s\n", e.what());
    return kExitUsage;
  } catch (const replay::SourceError& e) {
    std::fprintf(stderr, "mtown replay: %s\n", e.what());
    return e.kind() == replay::SourceErrorKind::not_found ? kReplayNotFound : kReplayDatabase;
  } catch (const core::RecordingError& e) {
    std::fprintf(stderr, "mtown replay: %s\n", e.what());
    switch (e.kind()) {
      case core::RecordingErrorKind::newer_format: return kReplayNewerFormat;
      case core::RecordingErrorKind::unknown_game: return kReplayUnknownGame;
      case core::RecordingErrorKind::corrupt: break;
    }
    return kReplayCorrupt;
  }
}

}  // namespace

Command add_replay(CLI::App& app) {
  auto f = std::make_shared<ReplayFlags>();
  app.add_option("target", f->target, "a .mtrec file, or a game id (with --database)");
  app.add_option("--database", f->database, "sqlite:PATH or postgres://... (default: $MTOWN_DATABASE_URL)")
      ->envname("MTOWN_DATABASE_URL");
  app.add_option("--until", f->until, "stop after this tick (checked up to it)");
  app.add_option("--print-state", f->print_state, "print the state at this tick as JSON");
  app.add_flag("--timeline", f->timeline, "print joins, leaves, phases, kills and scores with ticks and times");
  app.add_option("--export", f->export_path, "write the recording to FILE (.mtrec) and stop");
  app.add_flag("--json", f->json_out, "one JSON object on stdout");
  app.add_flag("--serve", f->serve, "play the recording to WebSocket clients as if live (ws://HOST:PORT/ws)");
  app.add_option("--speed", f->speed, "--serve: times real speed (default 1)")->check(CLI::PositiveNumber);
  app.add_option("--host", f->host, "--serve: address to listen on (default 127.0.0.1)");
  app.add_option("--port", f->port, "--serve: TCP port, 0 for any free one (default 8080)")->check(CLI::Range(0, 65535));
  app.add_option("--log-format", f->log_format, "--serve: auto|json|text")->check(CLI::IsMember({"auto", "json", "text"}));
  app.add_option("--log-level", f->log_level, "--serve: debug|info|warn|error|off")
      ->check(CLI::IsMember({"debug", "info", "warn", "error", "off"}));
  auto* list = app.add_subcommand("list", "recorded games in the database, newest first");
  list->add_option("--database", f->database, "sqlite:PATH or postgres://... (default: $MTOWN_DATABASE_URL)")
      ->envname("MTOWN_DATABASE_URL");
  list->add_option("--limit", f->limit, "at most this many (default 50)")->check(CLI::PositiveNumber);
  list->add_flag("--json", f->json_out, "a JSON array on stdout");
  app.require_subcommand(0, 1);
  app.footer("Exit codes: 0 verified (or done), 1 failure, 2 usage, 3 diverged, 4 no such file or game,\n"
             "5 corrupt recording, 6 recording format newer than this mtown, 7 unknown game or rules version,\n"
             "8 database unavailable, 9 cannot listen (--serve). See docs/replay.md.");
  return [f, list] { return guarded([&] { return list->parsed() ? run_list(*f) : run(*f); }); };
}

}  // namespace mtown::cli
