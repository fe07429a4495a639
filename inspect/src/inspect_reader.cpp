// Reads mtown's keys into the --json model. Never KEYS: SSCAN/SCAN with COUNT, and every
// read of many keys is one pipeline per page, so a Redis with many unrelated keys is
// never blocked for long by one command.
#include <algorithm>
#include <charconv>
#include <map>

#include "inspect_internal.hpp"
#include "mtown/core/protocol.hpp"
#include "mtown/core/redis_keys.hpp"
#include "mtown/core/room_code.hpp"

namespace mtown::inspect {
namespace {

namespace keys = core::redis_keys;
using core::RedisClient;
using core::RedisReply;
using Fields = std::map<std::string, std::string>;

struct BadKey {
  std::string key, problem;
};

[[noreturn]] void lost(const RedisClient& c) {
  throw InspectError(inspect_unreachable, "lost the connection to Redis: " + c.last_error().message);
}

RedisReply command(RedisClient& c, const RedisClient::Args& args) {
  auto r = c.command(args);
  if (!r) lost(c);
  if (r->is_error()) throw InspectError(inspect_failed, args[0] + " failed: " + r->str);
  return std::move(*r);
}

std::vector<RedisReply> pipeline(RedisClient& c, const std::vector<RedisClient::Args>& cmds) {
  std::vector<RedisReply> out;
  if (!cmds.empty() && !c.pipeline(cmds, out)) lost(c);
  return out;
}

// SCAN (key empty) or SSCAN over `key`, one page at a time.
template <typename F>
void scan(RedisClient& c, const std::string& key, const std::string& match, std::size_t count, F&& page) {
  std::string cursor = "0";
  do {
    RedisClient::Args args = key.empty() ? RedisClient::Args{"SCAN", cursor} : RedisClient::Args{"SSCAN", key, cursor};
    if (!match.empty()) args.insert(args.end(), {"MATCH", match});
    args.insert(args.end(), {"COUNT", std::to_string(count)});
    const auto r = command(c, args);
    if (r.elements.size() != 2) throw InspectError(inspect_failed, args[0] + " returned an unexpected reply");
    cursor = r.elements[0].str;
    std::vector<std::string> items;
    for (const auto& e : r.elements[1].elements) items.push_back(e.str);
    page(items);
  } while (cursor != "0");
}

Fields to_fields(const RedisReply& r) {
  Fields f;
  for (std::size_t i = 0; i + 1 < r.elements.size(); i += 2) f[r.elements[i].str] = r.elements[i + 1].str;
  return f;
}

// HGETALL + TTL of each key, pipelined. A key that is not a hash is a BadKey.
struct HashRead {
  std::string key;
  Fields fields;  // empty: the key does not exist
  long long ttl_s = -2;
};
std::vector<HashRead> read_hashes(RedisClient& c, const std::vector<std::string>& names, std::vector<BadKey>& bad) {
  std::vector<RedisClient::Args> cmds;
  for (const auto& k : names) {
    cmds.push_back({"HGETALL", k});
    cmds.push_back({"TTL", k});
  }
  const auto replies = pipeline(c, cmds);
  std::vector<HashRead> out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto& h = replies[2 * i];
    if (h.is_error()) {
      bad.push_back({names[i], "not a hash (" + h.str + ")"});
      continue;
    }
    out.push_back({names[i], to_fields(h), replies[2 * i + 1].integer});
  }
  return out;
}

std::optional<long long> to_int(const std::string& s) {
  long long v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// Integer fields of a hash; a missing or non-numeric one makes the key unreadable.
struct Reader {
  const Fields& f;
  std::string problem;
  std::string str(const char* name) {
    const auto it = f.find(name);
    if (it == f.end() && problem.empty()) problem = std::string("field ") + name + " missing";
    return it == f.end() ? "" : it->second;
  }
  long long num(const char* name) {
    const auto v = to_int(str(name));
    if (!v && problem.empty()) problem = std::string("field ") + name + " is not an integer";
    return v.value_or(0);
  }
};

double seconds_since(long long ms) { return std::max<long long>(0, core::epoch_ms() - ms) / 1000.0; }

// The room's `players` field as the server writes it: an array of objects with a string
// id and name and boolean host, ai, connected. Empty when it is one.
std::string players_problem(const std::string& text) {
  const json listed = json::parse(text, nullptr, false);
  if (listed.is_discarded()) return "field players is not JSON";
  if (!listed.is_array()) return "field players is not a JSON array";
  for (const auto& p : listed) {
    if (!p.is_object() || !p.contains("id") || !p["id"].is_string()) return "field players has an entry without a string id";
    if (p.contains("name") && !p["name"].is_string()) return "field players has a name that is not a string";
    for (const char* flag : {"host", "ai", "connected"})
      if (p.contains(flag) && !p[flag].is_boolean()) return std::string("field players has a non-boolean ") + flag;
  }
  return "";
}

std::optional<json> room_model(const HashRead& h, std::vector<BadKey>& bad) {
  Reader r{h.fields, {}};
  json room{{"code", r.str("code")}, {"id", r.str("id")}, {"game", r.str("game")}, {"status", r.str("status")},
            {"phase", r.str("phase")}, {"round", r.num("round")}, {"players", r.num("player_count")},
            {"max_players", r.num("max_players")}, {"ai", r.num("ai")}, {"host", r.str("host")},
            {"node", r.str("node")}, {"public", r.str("public") == "1"}, {"game_id", r.str("game_id")},
            {"created_at_ms", r.num("created_at_ms")}, {"expires_at_ms", r.num("expires_at_ms")},
            {"updated_at_ms", r.num("updated_at_ms")}, {"ttl_s", h.ttl_s}};
  if (r.problem.empty()) r.problem = players_problem(r.str("players"));
  if (!r.problem.empty()) {
    bad.push_back({h.key, r.problem});
    return std::nullopt;
  }
  room["age_s"] = seconds_since(room["created_at_ms"].get<long long>());
  return room;
}

json bad_json(const std::vector<BadKey>& bad) {
  json out = json::array();
  for (const auto& b : bad) out.push_back({{"key", b.key}, {"problem", b.problem}});
  return out;
}

// player:* and node:* keys of one SCAN, read a page at a time.
template <typename F>
void scan_hashes(RedisClient& c, const std::string& pattern, keys::KeyKind kind, const InspectOptions& o,
                 std::vector<BadKey>& bad, F&& each) {
  scan(c, "", pattern, o.scan_count, [&](const std::vector<std::string>& page) {
    std::vector<std::string> wanted;
    for (const auto& k : page) {
      const auto parsed = keys::classify(k);
      if (parsed.kind != kind) continue;
      if (!parsed.valid) bad.push_back({k, "not an mtown key name"});
      else wanted.push_back(k);
    }
    for (auto& h : read_hashes(c, wanted, bad))
      if (!h.fields.empty()) each(h);
  });
}

}  // namespace

std::string room_code_or_throw(const std::string& typed) {
  const auto code = core::normalize_room_code(typed);
  if (!code) throw InspectError(inspect_usage, "\"" + typed + "\" is not a room code (4 characters of " +
                                                   std::string(core::kRoomCodeAlphabet) + ")");
  return *code;
}

json read_rooms(RedisClient& c, const InspectOptions& o) {
  std::vector<BadKey> bad;
  json rooms = json::array();
  long long players = 0;
  std::size_t stale = 0;
  scan(c, std::string(keys::kRoomsActive), "", o.scan_count, [&](const std::vector<std::string>& codes) {
    std::vector<std::string> names;
    for (const auto& code : codes) {
      if (keys::classify(keys::room(code)).valid) names.push_back(keys::room(code));
      else bad.push_back({std::string(keys::kRoomsActive), "member \"" + code + "\" is not a room code"});
    }
    for (const auto& h : read_hashes(c, names, bad)) {
      if (h.fields.empty()) {
        ++stale;  // its node died and the hash expired; the next sweep drops it from the set
        continue;
      }
      auto room = room_model(h, bad);
      if (!room) continue;
      if (!o.game.empty() && (*room)["game"] != o.game) continue;
      if (!o.phase.empty() && (*room)["phase"] != o.phase) continue;
      players += (*room)["players"].get<long long>();
      rooms.push_back(std::move(*room));
    }
  });
  std::sort(rooms.begin(), rooms.end(), [](const json& a, const json& b) { return a["code"] < b["code"]; });
  const auto total = rooms.size();
  return {{"rooms", std::move(rooms)}, {"total", total}, {"players", players}, {"stale_index_entries", stale},
          {"unknown_keys", bad_json(bad)}};
}

json read_room(RedisClient& c, const InspectOptions& o) {
  const std::string code = room_code_or_throw(o.room);
  std::vector<BadKey> bad;
  const auto hashes = read_hashes(c, {keys::room(code)}, bad);
  if (!bad.empty()) throw InspectError(inspect_unknown_keys, keys::room(code) + " is " + bad[0].problem + ": " + "not written by mtown serve");
  if (hashes.empty() || hashes[0].fields.empty())
    throw InspectError(inspect_not_found, "room " + code + " is not in Redis: check the code, that `mtown serve` runs with --redis "
                                          "set to this Redis and db, and `mtown inspect rooms` for the open rooms");
  const auto& h = hashes[0];
  auto room = room_model(h, bad);
  if (!room) throw InspectError(inspect_unknown_keys, h.key + ": " + bad[0].problem + " (not written by this mtown version?)");
  const auto replies = pipeline(c, {{"GET", keys::game_state(code)},
                                    {"HGETALL", keys::votes_elimination(code)},
                                    {"HGETALL", keys::votes_final(code)}});
  json snapshot = nullptr;
  if (replies[0].type == RedisReply::Type::string) {
    snapshot = json::parse(replies[0].str, nullptr, false);
    if (snapshot.is_discarded()) bad.push_back({keys::game_state(code), "not JSON"});
  } else if (replies[0].is_error()) {
    bad.push_back({keys::game_state(code), "not a string (" + replies[0].str + ")"});
  }
  json votes = json::object();
  for (int i = 1; i <= 2; ++i) {
    const char* kind = i == 1 ? "elimination" : "final";
    if (replies[static_cast<std::size_t>(i)].is_error()) bad.push_back({i == 1 ? keys::votes_elimination(code) : keys::votes_final(code), "not a hash"});
    votes[kind] = to_fields(replies[static_cast<std::size_t>(i)]);
  }
  // Players as the room lists them, with their own player:{id} hash when they have one.
  const json listed = json::parse(h.fields.at("players"));
  std::vector<std::string> player_keys;
  for (const auto& p : listed)
    if (!p.value("ai", false)) player_keys.push_back(keys::player(p.value("id", "")));
  std::map<std::string, Fields> player_hashes;
  for (auto& ph : read_hashes(c, player_keys, bad)) player_hashes[ph.key] = std::move(ph.fields);
  json players = json::array();
  for (const auto& p : listed) {
    json entry{{"id", p.value("id", "")}, {"name", p.value("name", "")}, {"host", p.value("host", false)},
               {"ai", p.value("ai", false)}, {"connected", p.value("connected", true)}, {"last_activity_ms", nullptr}};
    const auto it = player_hashes.find(keys::player(entry["id"].get<std::string>()));
    if (it != player_hashes.end())
      if (auto last = to_int(it->second["last_activity_ms"])) entry["last_activity_ms"] = *last;
    players.push_back(std::move(entry));
  }
  return {{"room", std::move(*room)}, {"fields", h.fields}, {"players", std::move(players)}, {"snapshot", std::move(snapshot)},
          {"votes", std::move(votes)}, {"unknown_keys", bad_json(bad)}};
}

// Each player's ratelimit:{id}:{action} counters that exist, as {"chat": 3, ...}: one
// pipeline of GETs per 250 players.
void add_rate_counts(RedisClient& c, json& players) {
  static constexpr const char* kActions[] = {"input", "chat", "create_room", "join_room"};
  constexpr std::size_t kPlayersPerPipeline = 250;
  for (std::size_t from = 0; from < players.size(); from += kPlayersPerPipeline) {
    const auto to = std::min(players.size(), from + kPlayersPerPipeline);
    std::vector<RedisClient::Args> gets;
    for (std::size_t i = from; i < to; ++i)
      for (const char* action : kActions) gets.push_back({"GET", keys::ratelimit(players[i]["id"].get<std::string>(), action)});
    const auto replies = pipeline(c, gets);
    for (std::size_t i = from, at = 0; i < to; ++i) {
      json counts = json::object();
      for (const char* action : kActions) {
        const auto& reply = replies[at++];
        if (reply.type != RedisReply::Type::string) continue;  // nil: no counter in this window
        if (const auto n = to_int(reply.str)) counts[action] = *n;
      }
      players[i]["ratelimit"] = std::move(counts);
    }
  }
}

json read_players(RedisClient& c, const InspectOptions& o) {
  std::vector<BadKey> bad;
  const std::string room = o.room.empty() ? "" : room_code_or_throw(o.room);
  json players = json::array();
  std::size_t connected = 0;
  scan_hashes(c, keys::player("*"), keys::KeyKind::player, o, bad, [&](const HashRead& h) {
    Reader r{h.fields, {}};
    json p{{"id", r.str("id")}, {"name", r.str("name")}, {"room", r.str("room")}, {"node", r.str("node")},
           {"connected", r.str("connected") == "1"}, {"joined_at_ms", r.num("joined_at_ms")},
           {"last_activity_ms", r.num("last_activity_ms")}, {"ttl_s", h.ttl_s}};
    if (!r.problem.empty()) return bad.push_back({h.key, r.problem});
    if (!room.empty() && p["room"] != room) return;
    p["idle_s"] = seconds_since(p["last_activity_ms"].get<long long>());
    connected += p["connected"].get<bool>() ? 1 : 0;
    players.push_back(std::move(p));
  });
  add_rate_counts(c, players);
  std::sort(players.begin(), players.end(), [](const json& a, const json& b) {
    return std::tie(a["room"], a["name"], a["id"]) < std::tie(b["room"], b["name"], b["id"]);
  });
  const auto total = players.size();
  return {{"players", std::move(players)}, {"total", total}, {"connected", connected}, {"unknown_keys", bad_json(bad)}};
}

json read_nodes(RedisClient& c, const InspectOptions& o) {
  std::vector<BadKey> bad;
  json nodes = json::array();
  scan_hashes(c, keys::node("*"), keys::KeyKind::node, o, bad, [&](const HashRead& h) {
    Reader r{h.fields, {}};
    json n{{"id", r.str("id")}, {"address", r.str("address")}, {"version", r.str("version")}, {"pid", r.num("pid")},
           {"rooms", r.num("rooms")}, {"players", r.num("players")}, {"connections", r.num("connections")},
           {"max_connections", r.num("max_connections")}, {"max_rooms", r.num("max_rooms")},
           {"started_at_ms", r.num("started_at_ms")}, {"heartbeat_at_ms", r.num("heartbeat_at_ms")}, {"ttl_s", h.ttl_s}};
    const auto load = json::parse(r.str("load"), nullptr, false);
    if (r.problem.empty() && !load.is_number()) r.problem = "field load is not a number";
    if (!r.problem.empty()) return bad.push_back({h.key, r.problem});
    n["load"] = load;
    n["uptime_s"] = seconds_since(n["started_at_ms"].get<long long>());
    n["heartbeat_age_s"] = seconds_since(n["heartbeat_at_ms"].get<long long>());
    nodes.push_back(std::move(n));
  });
  std::sort(nodes.begin(), nodes.end(), [](const json& a, const json& b) { return a["id"] < b["id"]; });
  const auto total = nodes.size();
  return {{"nodes", std::move(nodes)}, {"total", total}, {"unknown_keys", bad_json(bad)}};
}

json read_stats(RedisClient& c, const InspectOptions& o) {
  std::vector<BadKey> bad;
  std::map<std::string, long long> counts;
  for (auto kind : {keys::KeyKind::room, keys::KeyKind::player, keys::KeyKind::game_state, keys::KeyKind::votes_elimination,
                    keys::KeyKind::votes_final, keys::KeyKind::ratelimit, keys::KeyKind::node, keys::KeyKind::rooms_active})
    counts[std::string(keys::kind_name(kind))] = 0;
  long long mtown_keys = 0, memory = 0;
  scan(c, "", "", o.scan_count, [&](const std::vector<std::string>& page) {
    std::vector<RedisClient::Args> sizes;
    for (const auto& k : page) {
      const auto parsed = keys::classify(k);
      if (parsed.kind == keys::KeyKind::other) continue;
      if (!parsed.valid) {
        bad.push_back({k, "not an mtown key name"});
        continue;
      }
      ++counts[std::string(keys::kind_name(parsed.kind))];
      ++mtown_keys;
      sizes.push_back({"MEMORY", "USAGE", k, "SAMPLES", "0"});
    }
    for (const auto& r : pipeline(c, sizes)) memory += r.integer;
  });
  const auto replies = pipeline(c, {{"SCARD", std::string(keys::kRoomsActive)}, {"DBSIZE"}, {"INFO", "memory"}});
  long long used = 0;
  if (const auto at = replies[2].str.find("used_memory:"); at != std::string::npos)
    used = to_int(replies[2].str.substr(at + 12, replies[2].str.find('\r', at) - at - 12)).value_or(0);
  return {{"keys", counts}, {"mtown_keys", mtown_keys}, {"mtown_memory_bytes", memory},
          {"rooms_active", replies[0].integer}, {"db_keys", replies[1].integer}, {"used_memory_bytes", used},
          {"unknown_keys", bad_json(bad)}};
}

void connect_or_throw(RedisClient& client, const core::RedisUrl& url, int timeout_ms) {
  const auto err = client.connect(url, std::chrono::milliseconds(timeout_ms));
  if (!err) return;
  const std::string where = url.host + ":" + std::to_string(url.port) + "/" + std::to_string(url.db);
  switch (err->kind) {
    case core::RedisFailure::auth:
      throw InspectError(inspect_auth, "Redis at " + where + " refused the credentials (" + err->message +
                                           "): check the password in --redis redis://:PASSWORD@HOST:PORT or MTOWN_REDIS_URL");
    case core::RedisFailure::unreachable:
    case core::RedisFailure::io:
      throw InspectError(inspect_unreachable, "cannot reach Redis at " + where + " (" + err->message +
                                                  "): check --redis / MTOWN_REDIS_URL and that Redis is running");
    case core::RedisFailure::protocol:
      break;
  }
  throw InspectError(inspect_failed, "Redis at " + where + " answered: " + err->message + " (check the db number)");
}

}  // namespace mtown::inspect
