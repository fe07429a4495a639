#include "mtown/replay/report.hpp"

#include <chrono>
#include <cstdio>
#include <stdexcept>

namespace mtown::replay {
namespace {

using nlohmann::json;

json state_at(const Replayer& r, core::Tick asked) {
  return {{"tick", asked}, {"replayed_tick", r.tick()}, {"hash", core::hash_hex(r.state_hash())},
          {"state", r.game().snapshot()}};
}

std::string scores_line(const json& result) {
  return result.is_object() && result.contains("standings") ? scores_text(result["standings"]) : std::string();
}

std::string fmt(const char* format, auto... args) {
  char buf[512];
  std::snprintf(buf, sizeof buf, format, args...);
  return buf;
}

}  // namespace

ReplayReport replay_recording(const core::Recording& recording, const ReplayOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  Replayer r(recording);
  if (options.print_state && *options.print_state > r.last_tick())
    throw std::out_of_range("tick " + std::to_string(*options.print_state) + " is past the recording's last tick, " +
                            std::to_string(r.last_tick()));
  ReplayReport rep;
  std::optional<Timeline> timeline;
  if (options.timeline) timeline.emplace(recording.header);
  bool stopped = false;
  while (!r.done()) {
    const core::Tick next = r.next_tick();
    if (options.print_state && !rep.state && next > *options.print_state) rep.state = state_at(r, *options.print_state);
    if (options.until && next > *options.until) {
      stopped = true;
      break;
    }
    const auto* step = r.next();
    if (!step) break;
    if (timeline) timeline->on_step(*step, r.game());
  }
  if (options.print_state && !rep.state && r.done() && !r.divergence())
    rep.state = state_at(r, *options.print_state);
  rep.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  rep.game_id = recording.header.game_id;
  rep.game = recording.header.game;
  rep.started_at_ms = recording.header.started_at_ms;
  rep.ticks = r.tick();
  rep.game_ms = game_ms(recording.header, r.tick());
  rep.steps = r.steps();
  rep.inputs = r.inputs();
  rep.events = r.events();
  rep.tick_hashes = r.tick_hashes_checked();
  rep.checkpoints = r.checkpoints_checked();
  rep.divergence = r.divergence();
  rep.end_checked = r.end() != nullptr;
  rep.status = stopped ? "stopped" : r.end() ? r.end()->status : "incomplete";
  rep.result = r.game().result();
  if (timeline) {
    if (r.end() && !rep.divergence) timeline->on_end(*r.end());
    rep.timeline = timeline->entries();
  }
  return rep;
}

json report_json(const ReplayReport& r) {
  json out{{"game_id", r.game_id},       {"game", r.game},           {"verified", r.verified()},
           {"status", r.status},         {"ticks", r.ticks},         {"game_ms", r.game_ms},
           {"steps", r.steps},           {"inputs", r.inputs},       {"events", r.events},
           {"tick_hashes", r.tick_hashes}, {"checkpoints", r.checkpoints}, {"end_checked", r.end_checked},
           {"result", r.result},         {"elapsed_s", r.elapsed_s}, {"ticks_per_s", r.ticks_per_second()},
           {"real_time_factor", r.real_time_factor()}};
  if (r.divergence) {
    const auto& d = *r.divergence;
    json fields = json::array();
    for (const auto& f : d.fields) fields.push_back({{"path", f.path}, {"expected", f.expected}, {"actual", f.actual}});
    out["divergence"] = {{"tick", d.tick}, {"compared_at", d.compared_at}, {"what", d.what}, {"expected", d.expected},
                         {"actual", d.actual}, {"fields", std::move(fields)}, {"note", d.note}};
  }
  if (r.state) out["state"] = *r.state;
  if (!r.timeline.empty()) out["timeline"] = timeline_json(r.timeline, r.started_at_ms);
  return out;
}

std::string report_text(const ReplayReport& r) {
  std::string out = fmt("game      %s (%s)\n", r.game_id.c_str(), r.game.c_str());
  out += fmt("ticks     %llu (%s of game time), %zu steps, %zu inputs, %zu events\n",
             static_cast<unsigned long long>(r.ticks), format_game_time(r.game_ms).substr(1).c_str(), r.steps, r.inputs,
             r.events);
  out += fmt("checked   %zu tick hashes, %zu checkpoints%s\n", r.tick_hashes, r.checkpoints,
             r.end_checked ? ", the end" : "");
  out += fmt("status    %s\n", r.status.c_str());
  if (const auto scores = scores_line(r.result); !scores.empty()) out += "scores    " + scores + "\n";
  out += fmt("speed     %.3f s, %.0f ticks/s (%.0fx real time)\n", r.elapsed_s, r.ticks_per_second(), r.real_time_factor());
  if (!r.divergence) return out + (r.status == "incomplete" ? "verified (the recording has no end record)\n" : "verified\n");
  const auto& d = *r.divergence;
  out += fmt("DIVERGED at tick %llu: %s differs (expected %s, actual %s)\n", static_cast<unsigned long long>(d.tick),
             d.what.c_str(), d.expected.c_str(), d.actual.c_str());
  if (!d.note.empty()) out += "  " + d.note + "\n";
  if (!d.fields.empty()) out += fmt("  fields that differ at tick %llu (expected -> actual):\n", static_cast<unsigned long long>(d.compared_at));
  for (const auto& f : d.fields) out += "    " + f.path + ": " + f.expected.dump() + " -> " + f.actual.dump() + "\n";
  return out;
}

}  // namespace mtown::replay
