#include "mtown/replay/timeline.hpp"

#include <cstdio>

namespace mtown::replay {
namespace {

using nlohmann::json;

}  // namespace

Timeline::Timeline(const core::RecordingHeader& header) : header_(header) {
  for (std::size_t i = 0; i < header.seats.size(); ++i) {
    const auto& s = header.seats[i];
    json data{{"seat", i}, {"player_id", s.player_id}, {"name", s.name}, {"ai", s.ai}};
    add(0, "join", seat_name(i) + (s.ai ? " joined (AI, " + std::string(core::ai_difficulty_name(s.difficulty)) + ")" : " joined"),
        std::move(data));
  }
}

std::string Timeline::seat_name(const json& seat) const {
  if (!seat.is_number_unsigned() || seat.get<std::size_t>() >= header_.seats.size()) return "seat " + seat.dump();
  const auto i = seat.get<std::size_t>();
  return header_.seats[i].name + " (seat " + std::to_string(i) + ")";
}

void Timeline::add(core::Tick tick, std::string kind, std::string text, json data) {
  entries_.push_back({tick, game_ms(header_, tick), std::move(kind), std::move(text), std::move(data)});
}

void Timeline::on_step(const ReplayStep& step, const core::Game& game) {
  for (const auto& in : step.inputs)
    if (in.data == core::leave_input_data()) add(step.tick, "leave", seat_name(in.seat) + " left", {{"seat", in.seat}});
  for (const auto& e : step.out.events) {
    const std::string name = e.value("event", "");
    if (name == "kill") {
      const auto players = game.snapshot()["players"];
      const auto attacker = e.value("attacker", json());
      std::string score;
      if (attacker.is_number_unsigned() && attacker.get<std::size_t>() < players.size())
        score = "; score " + std::to_string(players[attacker.get<std::size_t>()].value("score", 0));
      add(step.tick, "kill", seat_name(attacker) + " killed " + seat_name(e.value("target", json())) + score, e);
    } else if (name == "ai_takeover") {
      add(step.tick, "takeover", seat_name(e.value("seat", json())) + " played by the AI (" + e.value("difficulty", "?") + ")", e);
    } else if (name == "phase") {
      add(step.tick, "phase", "round " + std::to_string(e.value("round", 0)) + ": " + e.value("phase", "?"), e);
    } else if (name == "round_scores") {
      add(step.tick, "scores", "round " + std::to_string(e.value("round", 0)) + ": " + scores_text(game.snapshot()["players"]), e);
    } else if (name == "match_over" || name == "game_over") {
      add(step.tick, "result", "winner " + e.value("winner", json()).dump() + "; " + scores_text(e["standings"]), e);
    }
  }
}

void Timeline::on_end(const core::RecordedEnd& end) {
  add(end.tick, "end", end.status == "completed" ? "game completed" : "game aborted (the room closed)",
      {{"status", end.status}});
}

std::int64_t game_ms(const core::RecordingHeader& h, core::Tick tick) {
  return h.tick_hz > 0 ? static_cast<std::int64_t>(tick * 1000 / h.tick_hz) : static_cast<std::int64_t>(tick);
}

std::string scores_text(const json& players) {
  std::string out;
  for (const auto& p : players) {
    if (!out.empty()) out += ", ";
    out += p.value("name", "?") + " " + std::to_string(p.value("score", std::int64_t{0}));
  }
  return out;
}

std::string format_game_time(std::int64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "+%lld:%02lld.%03lld", static_cast<long long>(ms / 60000),
                static_cast<long long>(ms / 1000 % 60), static_cast<long long>(ms % 1000));
  return buf;
}

json timeline_json(const std::vector<TimelineEntry>& entries, std::int64_t started_at_ms) {
  json out = json::array();
  for (const auto& e : entries)
    out.push_back({{"tick", e.tick}, {"ms", e.ms}, {"at_ms", started_at_ms + e.ms}, {"kind", e.kind},
                   {"text", e.text}, {"data", e.data}});
  return out;
}

}  // namespace mtown::replay
