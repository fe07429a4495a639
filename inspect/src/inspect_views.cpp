// Tables for a terminal: one row per item, sorted as the model is, with a total line.
#include <algorithm>
#include <cstdio>
#include <sstream>

#include "inspect_internal.hpp"

namespace mtown::inspect {
namespace {

using Row = std::vector<std::string>;

std::string table(const Row& header, const std::vector<Row>& rows) {
  std::vector<std::size_t> width(header.size(), 0);
  for (std::size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size() && i < width.size(); ++i) width[i] = std::max(width[i], r[i].size());
  std::ostringstream out;
  const auto line = [&](const Row& r) {
    std::string text;
    for (std::size_t i = 0; i < r.size(); ++i) {
      text += r[i];
      if (i + 1 < r.size()) text += std::string(width[i] - r[i].size() + 2, ' ');
    }
    out << text << "\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
  return out.str();
}

// 75 -> "1m15s", 7300 -> "2h01m"; negative TTLs: -1 "none", -2 "gone".
std::string duration(double seconds) {
  const auto s = static_cast<long long>(seconds);
  char buf[32];
  if (s < 60) std::snprintf(buf, sizeof buf, "%llds", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
  return buf;
}
std::string ttl(const json& v) {
  const auto t = v.get<long long>();
  return t == -1 ? "none" : t < 0 ? "gone" : duration(static_cast<double>(t));
}
std::string str(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

std::string unknown(const json& model) {
  std::string out;
  for (const auto& b : model["unknown_keys"]) out += "unknown key format: " + str(b["key"]) + ": " + str(b["problem"]) + "\n";
  return out;
}

std::string rooms(const json& m) {
  std::vector<Row> rows;
  for (const auto& r : m["rooms"])
    rows.push_back({str(r["code"]), str(r["game"]), str(r["phase"]), str(r["players"]) + "/" + str(r["max_players"]),
                    str(r["ai"]), str(r["node"]), duration(r["age_s"].get<double>()), ttl(r["ttl_s"])});
  std::string out = table({"CODE", "GAME", "PHASE", "PLAYERS", "AI", "NODE", "AGE", "TTL"}, rows);
  out += "total: " + str(m["total"]) + " rooms, " + str(m["players"]) + " players";
  if (m["stale_index_entries"].get<long long>() > 0) out += " (" + str(m["stale_index_entries"]) + " expired rooms still indexed)";
  return out + "\n";
}

std::string room(const json& m) {
  std::ostringstream out;
  const auto& r = m["room"];
  out << "room " << str(r["code"]) << "  (" << str(r["game"]) << ", " << str(r["phase"]) << ", node " << str(r["node"])
      << ", ttl " << ttl(r["ttl_s"]) << ")\n\nfields (HGETALL room:" << str(r["code"]) << "):\n";
  std::vector<Row> fields;
  for (const auto& [k, v] : m["fields"].items()) fields.push_back({"  " + k, str(v)});
  out << table({"  FIELD", "VALUE"}, fields) << "\nplayers:\n";
  std::vector<Row> players;
  for (const auto& p : m["players"])
    players.push_back({"  " + str(p["id"]), str(p["name"]), p["host"].get<bool>() ? "host" : "",
                       p["ai"].get<bool>() ? "ai" : "human", p["connected"].get<bool>() ? "connected" : "disconnected"});
  out << table({"  ID", "NAME", "HOST", "KIND", "CONNECTION"}, players);
  for (const char* kind : {"elimination", "final"}) {
    const auto& votes = m["votes"][kind];
    out << "\nvotes:" << kind << " (" << votes.size() << "):\n";
    for (const auto& [player, answer] : votes.items()) out << "  " << player << " -> " << str(answer) << "\n";
  }
  out << "\nsnapshot:\n" << (m["snapshot"].is_null() ? std::string("  (none)") : m["snapshot"].dump(2)) << "\n";
  return out.str();
}

// "chat:3,input:12" from {"chat":3,"input":12}; "-" without counters.
std::string rate_counts(const json& counts) {
  std::string out;
  for (const auto& [action, n] : counts.items()) out += (out.empty() ? "" : ",") + action + ":" + str(n);
  return out.empty() ? "-" : out;
}

std::string players(const json& m) {
  std::vector<Row> rows;
  for (const auto& p : m["players"])
    rows.push_back({str(p["id"]), str(p["name"]), p["room"] == "" ? "-" : str(p["room"]), str(p["node"]),
                    p["connected"].get<bool>() ? "yes" : "no", duration(p["idle_s"].get<double>()), ttl(p["ttl_s"]),
                    rate_counts(p["ratelimit"])});
  return table({"ID", "NAME", "ROOM", "NODE", "CONNECTED", "IDLE", "TTL", "RATE"}, rows) + "total: " + str(m["total"]) +
         " players, " + str(m["connected"]) + " connected\n";
}

std::string nodes(const json& m) {
  std::vector<Row> rows;
  for (const auto& n : m["nodes"]) {
    char load[16];
    std::snprintf(load, sizeof load, "%.0f%%", n["load"].get<double>() * 100);
    rows.push_back({str(n["id"]), str(n["address"]), str(n["rooms"]), str(n["players"]), str(n["connections"]), load,
                    duration(n["uptime_s"].get<double>()), duration(n["heartbeat_age_s"].get<double>()) + " ago",
                    ttl(n["ttl_s"])});
  }
  return table({"ID", "ADDRESS", "ROOMS", "PLAYERS", "CONNECTIONS", "LOAD", "UP", "HEARTBEAT", "TTL"}, rows) +
         "total: " + str(m["total"]) + " nodes\n";
}

std::string stats(const json& m) {
  std::vector<Row> rows;
  for (const auto& [kind, n] : m["keys"].items()) rows.push_back({kind, str(n)});
  std::ostringstream out;
  out << table({"KEYS", "COUNT"}, rows) << "mtown keys: " << str(m["mtown_keys"]) << " using "
      << str(m["mtown_memory_bytes"]) << " bytes\nopen rooms (rooms:active): " << str(m["rooms_active"])
      << "\nkeys in this db: " << str(m["db_keys"]) << ", Redis memory used: " << str(m["used_memory_bytes"]) << " bytes\n";
  return out.str();
}

}  // namespace

std::string render(View view, const json& model) {
  std::string body;
  switch (view) {
    case View::rooms: body = rooms(model); break;
    case View::room: body = room(model); break;
    case View::players: body = players(model); break;
    case View::nodes: body = nodes(model); break;
    case View::stats: body = stats(model); break;
  }
  return body + unknown(model);
}

std::string render_close(const json& r) {
  return "room " + str(r["code"]) + " closed by node " + str(r["node"]) + " (" + str(r["detail"]) + ")\n";
}

}  // namespace mtown::inspect
