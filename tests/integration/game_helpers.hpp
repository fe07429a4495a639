// Shared helpers for the game integration tests (test_game_*.cpp): rooms over real
// sockets, error checks that prove nothing changed, and a reactive party player.
// Main-thread use only (Catch2 v2 assertions are not thread-safe).
#pragma once
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "test_server.hpp"
#include "ws_client.hpp"

namespace mtown::test::games {

using Clients = std::vector<std::unique_ptr<WsClient>>;
using Clock = std::chrono::steady_clock;

inline std::vector<std::string> serve_args() {
  return {"--database", "none", "--set", "server.shutdown_timeout_ms=500"};
}

inline WsClient::Options encoding(const std::string& subprotocol) {
  WsClient::Options o;
  o.subprotocol = subprotocol;
  return o;
}

inline std::set<std::string> keys_of(const json& object) {
  std::set<std::string> out;
  for (const auto& [k, v] : object.items()) out.insert(k);
  return out;
}

// create_room; checks the reply pair and returns the room code.
inline std::string create_room(WsClient& c, const std::string& game, const std::string& name,
                               json extra = json::object()) {
  json msg{{"type", "create_room"}, {"game", game}, {"name", name}};
  msg.update(extra);
  c.send(msg);
  auto joined = c.expect("room_joined");
  REQUIRE(joined["you"] == c.player_id());
  auto state = c.expect("room_state");
  CHECK(state["room"]["status"] == "waiting");
  return joined["room"]["code"];
}

// `joiner` joins; it gets room_joined + room_state, each of `members` player_joined + room_state.
inline void join_room(WsClient& joiner, const std::string& code, const std::string& name,
                      const std::vector<WsClient*>& members) {
  joiner.send({{"type", "join_room"}, {"code", code}, {"name", name}});
  auto joined = joiner.expect("room_joined");
  REQUIRE(joined["you"] == joiner.player_id());
  joiner.expect("room_state");
  for (auto* m : members) {
    CHECK(m->expect("player_joined")["player"]["id"] == joiner.player_id());
    m->expect("room_state");
  }
}

inline std::vector<WsClient*> ptrs(const Clients& clients, std::size_t count = SIZE_MAX) {
  std::vector<WsClient*> out;
  for (std::size_t i = 0; i < clients.size() && i < count; ++i) out.push_back(clients[i].get());
  return out;
}

// The next message must be a pong to this ping: nothing else (no broadcast, no late
// error) was queued for the connection, and it is still usable.
inline void expect_pong_next(WsClient& c) {
  static int counter = 0;
  const std::string rid = "chk-" + std::to_string(++counter);
  c.send({{"type", "ping"}, {"rid", rid}});
  auto pong = c.recv();
  INFO("expected pong, got " << pong.dump());
  REQUIRE(pong["type"] == "pong");
  CHECK(pong["rid"] == rid);
}

// Sends `msg`; the reply must be an error with `code` (and rid "e" echoed).
inline json expect_error(WsClient& c, json msg, const std::string& code) {
  msg["rid"] = "e";
  c.send(msg);
  auto reply = c.recv();
  INFO("sent " << msg.dump() << ", got " << reply.dump());
  REQUIRE(reply["type"] == "error");
  CHECK(reply["code"] == code);
  CHECK(reply["rid"] == "e");
  return reply;
}

// list_rooms entry for `code` (public rooms only).
inline json room_summary(WsClient& c, const std::string& code) {
  c.send({{"type", "list_rooms"}, {"rid", "ls"}});
  auto list = c.expect("room_list");
  for (const auto& r : list["rooms"])
    if (r["code"] == code) return r;
  FAIL("room " << code << " is not listed");
  return {};
}

inline std::string phase_of(const json& snapshot) { return snapshot.at("phase").get<std::string>(); }

// ---------------------------------------------------------------------------------
// A party player that reacts to every state it receives, and records what it saw.

// What a state/game_event may show before the round's results (docs/games/party.md:
// never authorship, answer kinds, or which answer is correct/robot). Returns the problems.
inline std::vector<std::string> party_privacy_problems(const json& msg) {
  std::vector<std::string> bad;
  const auto expect_keys = [&](const json& j, const std::set<std::string>& keys, const char* what) {
    if (!j.is_object() || keys_of(j) != keys) bad.push_back(std::string(what) + " has other fields: " + j.dump());
  };
  // These keys only exist in round_scores / last_results / result.
  struct Scan {
    static void keys(const json& j, std::vector<std::string>& out) {
      static const std::set<std::string> secret{"authors", "correct", "robot", "correct_points", "final_vote",
                                                "elimination_vote"};
      if (j.is_object()) {
        for (auto it = j.begin(); it != j.end(); ++it) {
          if (secret.count(it.key())) out.push_back("secret key " + it.key());
          keys(*it, out);
        }
      } else if (j.is_array()) {
        for (const auto& v : j) keys(v, out);
      }
    }
  };
  Scan::keys(msg, bad);
  if (msg["type"] == "game_event") {
    const auto& e = msg["event"];
    const std::string name = e["event"];
    if (name == "answer_accepted") expect_keys(e, {"event", "text"}, "answer_accepted");
    else if (name == "vote_accepted") expect_keys(e, {"event", "kind", "answer"}, "vote_accepted");
    else bad.push_back("private event " + name);
    return bad;
  }
  if (msg["type"] != "state") return bad;
  const auto& s = msg["snapshot"];
  if (!s["last_results"].is_null()) bad.push_back("last_results before the results");
  if (!s["result"].is_null()) bad.push_back("result before the final");
  for (const auto& a : s["answers"]) expect_keys(a, {"id", "text", "eliminated"}, "snapshot answer");
  for (const auto& p : s["players"])
    expect_keys(p, {"seat", "player_id", "name", "ai", "active", "score", "answered", "voted"}, "snapshot player");
  if (!s["question"].is_null()) expect_keys(s["question"], {"id", "text"}, "snapshot question");
  if (!s["elimination"].is_null()) expect_keys(s["elimination"], {"eliminated", "tie", "counts"}, "snapshot elimination");
  for (const auto& e : msg["events"]) {
    const std::string name = e["event"];
    if (name == "answers") {
      expect_keys(e, {"event", "answers"}, "answers event");
      for (const auto& a : e["answers"]) expect_keys(a, {"id", "text"}, "answers event entry");
    } else if (name == "answered") {
      expect_keys(e, {"event", "seat"}, "answered event");
    } else if (name == "vote_cast") {
      expect_keys(e, {"event", "seat", "kind"}, "vote_cast event");
    } else if (name == "phase") {
      if (e.contains("question")) expect_keys(e["question"], {"id", "text"}, "phase event question");
    } else if (name != "elimination" && name != "left") {
      bad.push_back("event " + name + " before the results");
    }
  }
  return bad;
}

inline void check_party_privacy(const json& msg) {
  const auto bad = party_privacy_problems(msg);
  INFO("message: " << msg.dump());
  for (const auto& b : bad) UNSCOPED_INFO(b);
  CHECK(bad.empty());
}

struct PartyBot {
  WsClient* c = nullptr;
  std::string name;
  bool host = false;
  bool autoplay = true;      // answer, vote and (host) next_round on its own
  bool wait_for_ai = false;  // act only once every active AI seat has acted this phase
  bool check_privacy = true;
  int play_until_round = 1 << 30;  // stops acting after this round
  int privacy_checked = 0;          // messages checked by party_privacy_problems

  int seat = -1;
  std::string game_id;
  json seats = json::array();
  json snapshot;               // latest snapshot
  std::string room_status;     // from the latest room_state
  std::uint64_t last_tick = 0;
  std::vector<std::string> phases;  // "round:phase" in the order seen
  std::vector<std::uint64_t> phase_ticks;  // the tick each of those phases began
  std::vector<json> round_scores;   // round_scores events (with the snapshot of that state)
  std::vector<json> round_snapshots;
  std::optional<json> game_over;
  std::vector<json> private_events;
  std::vector<json> errors;         // error messages received
  std::vector<json> others;         // player_left, host_changed, ... in order
  std::vector<json> states;         // every state message
  std::map<int, std::string> texts;           // round -> the answer text this bot sent
  std::map<int, std::string> elimination_votes, final_votes;  // round -> answer id sent
  std::set<std::string> seen_ai_answered, seen_ai_voted;      // "round:phase:seat" seen true
  int next_round_sent = 0;  // last round the host sent next_round for
  int late_inputs = 0;      // wait_for_ai: inputs refused because a timer closed the phase first
  std::uint64_t input_seq = 0;
  struct Sent {
    std::uint64_t seq;
    std::string action, value;
  };
  std::deque<Sent> unanswered;  // answers and votes sent, awaiting their private echo or refusal

  std::string text_for(int round) const { return name + " says fake " + std::to_string(round); }

  int round() const { return snapshot.is_null() ? 0 : snapshot.value("round", 0); }
  std::string phase() const { return snapshot.is_null() ? "" : phase_of(snapshot); }

  std::uint64_t send_input(const json& data) {
    c->send({{"type", "input"}, {"input_seq", ++input_seq}, {"data", data}});
    return input_seq;
  }
  void answer(const std::string& text) {
    texts[round()] = text;
    unanswered.push_back({send_input({{"action", "answer"}, {"text", text}}), "answer", text});
  }
  void vote(const std::string& id) {
    (phase() == "elimination" ? elimination_votes : final_votes)[round()] = id;
    unanswered.push_back({send_input({{"action", "vote"}, {"answer", id}}), "vote", id});
  }

  // The shown answer written by this bot this round, if any.
  std::string own_answer_id() const {
    const auto it = texts.find(round());
    if (it == texts.end()) return {};
    for (const auto& a : snapshot["answers"])
      if (a["text"] == it->second) return a["id"];
    return {};
  }

  std::vector<std::string> allowed_votes() const {
    std::vector<std::string> out;
    const std::string own = own_answer_id();
    for (const auto& a : snapshot["answers"])
      if (a["id"] != own && !a["eliminated"].get<bool>()) out.push_back(a["id"]);
    return out;
  }

  bool ai_all_acted() const {
    for (const auto& p : snapshot["players"]) {
      if (!p["ai"].get<bool>() || !p["active"].get<bool>()) continue;
      if (phase() == "question" ? !p["answered"].get<bool>() : !p["voted"].get<bool>()) return false;
    }
    return true;
  }

  void act() {
    if (!autoplay || snapshot.is_null() || seat < 0) return;
    if (!snapshot["players"][static_cast<std::size_t>(seat)]["active"].get<bool>()) return;
    const int r = round();
    if (r > play_until_round) return;
    const std::string ph = phase();
    if ((ph == "question" || ph == "elimination" || ph == "voting") && wait_for_ai && !ai_all_acted()) return;
    if (ph == "question" && !texts.count(r)) return answer(text_for(r));
    if (ph == "elimination" && !elimination_votes.count(r)) {
      const auto allowed = allowed_votes();
      REQUIRE_FALSE(allowed.empty());
      return vote(allowed[static_cast<std::size_t>(seat + r) % allowed.size()]);
    }
    if (ph == "voting" && !final_votes.count(r)) {
      const auto allowed = allowed_votes();
      REQUIRE_FALSE(allowed.empty());
      return vote(allowed[static_cast<std::size_t>(seat * 3 + r) % allowed.size()]);
    }
    if (ph == "results" && host && next_round_sent < r) {
      next_round_sent = r;
      send_input({{"action", "next_round"}});
    }
  }

  void on_message(json m) {
    const std::string type = m["type"];
    if (type == "game_started") {
      CHECK(m["game"] == "party");
      CHECK(m["tick_hz"] == 0);
      // The questions (with their answers) stay on the server.
      CHECK_FALSE(m["options"].contains("questions"));
      game_id = m["game_id"];
      seats = m["seats"];
      seat = -1;
      for (const auto& s : seats)
        if (s["player_id"] == c->player_id()) seat = s["seat"];
      REQUIRE(seat >= 0);
      snapshot = m["snapshot"];
      CHECK(phase() == "question");
      CHECK(round() == 1);
      phases.assign(1, "1:question");
      phase_ticks.assign(1, 0);
      texts.clear();
      elimination_votes.clear();
      final_votes.clear();
      next_round_sent = 0;
      last_tick = 0;
      game_over.reset();
      observe_ai();
      act();
    } else if (type == "state") {
      CHECK(m["tick"].get<std::uint64_t>() >= last_tick);
      last_tick = m["tick"];
      snapshot = m["snapshot"];
      const std::string ph = phase();
      if (check_privacy && ph != "results" && ph != "final") {
        ++privacy_checked;
        if (!party_privacy_problems(m).empty()) check_party_privacy(m);
      }
      for (const auto& e : m["events"]) {
        if (e["event"] == "phase") {
          phases.push_back(std::to_string(e["round"].get<int>()) + ":" + e["phase"].get<std::string>());
          phase_ticks.push_back(last_tick);
        }
        if (e["event"] == "round_scores") {
          round_scores.push_back(e);
          round_snapshots.push_back(snapshot);
        }
      }
      observe_ai();
      act();
      states.push_back(std::move(m));
    } else if (type == "game_event") {
      private_events.push_back(m["event"]);
      if (check_privacy && phase() != "results") {
        ++privacy_checked;
        if (!party_privacy_problems(m).empty()) check_party_privacy(m);
      }
      // Each accepted answer/vote is echoed privately, in the order sent.
      const auto& e = m["event"];
      INFO("private event: " << e.dump());
      REQUIRE_FALSE(unanswered.empty());
      const Sent sent = unanswered.front();
      unanswered.pop_front();
      if (e["event"] == "answer_accepted") {
        CHECK(sent.action == "answer");
        CHECK(e["text"] == sent.value);
      } else {
        CHECK(sent.action == "vote");
        CHECK(e["answer"] == sent.value);
      }
    } else if (type == "game_over") {
      game_over = m;
    } else if (type == "room_state") {
      room_status = m["room"]["status"];
    } else if (type == "host_changed") {
      others.push_back(m);
      host = m["host"] == c->player_id();
      act();  // the new host may owe a next_round already
    } else if (type == "error") {
      errors.push_back(m);
      if (m.contains("input_seq"))
        std::erase_if(unanswered, [&](const Sent& x) { return x.seq == m["input_seq"].get<std::uint64_t>(); });
      if (wait_for_ai && m["code"] == "WRONG_PHASE") ++late_inputs;
    } else {
      others.push_back(m);
    }
  }

  void observe_ai() {
    const std::string ph = phase();
    for (const auto& p : snapshot["players"]) {
      if (!p["ai"].get<bool>()) continue;
      const std::string key = std::to_string(round()) + ":" + ph + ":" + std::to_string(p["seat"].get<int>());
      if (ph == "question" && p["answered"].get<bool>()) seen_ai_answered.insert(key);
      if ((ph == "elimination" || ph == "voting") && p["voted"].get<bool>()) seen_ai_voted.insert(key);
    }
  }

  // Reads whatever has arrived (up to `wait` for the first message).
  bool pump(std::chrono::milliseconds wait = std::chrono::milliseconds(1)) {
    bool any = false;
    while (auto m = c->try_recv(any ? std::chrono::milliseconds(1) : wait)) {
      any = true;
      on_message(std::move(*m));
    }
    return any;
  }
};

// Pumps every bot until `done` holds; fails after `timeout`.
inline void run_until(std::vector<PartyBot*> bots, const std::function<bool()>& done,
                      std::chrono::milliseconds timeout, const std::string& what) {
  const auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() > deadline) FAIL("timed out waiting for " << what);
    bool any = false;
    for (auto* b : bots) any = b->pump() || any;
    (void)any;
  }
}

// The phases of a full game of `rounds` rounds, as PartyBot::phases records them.
inline std::vector<std::string> expected_phases(int rounds) {
  std::vector<std::string> out;
  for (int r = 1; r <= rounds; ++r)
    for (const char* p : {"question", "elimination", "voting", "results"}) out.push_back(std::to_string(r) + ":" + p);
  out.push_back(std::to_string(rounds) + ":final");
  return out;
}

// Recomputes each player's round points from the revealed votes and authors
// (docs/games/party.md, Scoring) and checks the event and the snapshot agree.
inline void check_round_scores(const json& rs, const json& snapshot_after, std::map<std::string, std::int64_t>& totals) {
  INFO("round_scores: " << rs.dump());
  const std::string correct = rs["correct"], robot = rs["robot"];
  std::map<std::string, json> answers;
  std::map<int, std::string> authored;  // seat -> answer id
  int n_correct = 0, n_robot = 0;
  for (const auto& a : rs["answers"]) {
    answers[a["id"]] = a;
    if (a["kind"] == "correct") {
      ++n_correct;
      CHECK(a["id"] == correct);
      CHECK(a["text"] == rs["question"]["correct"]);
    }
    if (a["kind"] == "robot") {
      ++n_robot;
      CHECK(a["id"] == robot);
      CHECK(a["text"] == rs["question"]["robot"]);
    }
    if (a["kind"] == "player") CHECK_FALSE(a["authors"].empty());
    for (const auto& s : a["authors"]) authored[s.get<int>()] = a["id"];
  }
  CHECK(n_correct == 1);
  CHECK(n_robot == 1);
  std::map<std::string, int> elim_counts, final_counts;
  for (const auto& p : rs["players"]) {
    if (!p["elimination_vote"].is_null()) ++elim_counts[p["elimination_vote"]];
    if (!p["final_vote"].is_null()) ++final_counts[p["final_vote"]];
  }
  for (const auto& [id, a] : answers) {
    CHECK(a["elimination_votes"] == elim_counts[id]);
    CHECK(a["final_votes"] == final_counts[id]);
    CHECK(a["eliminated"] == (rs["eliminated"] == id));
  }
  for (const auto& p : rs["players"]) {
    const int seat = p["seat"];
    const json& active_flag = snapshot_after["players"][static_cast<std::size_t>(seat)]["active"];
    const bool active = active_flag.get<bool>();
    std::int64_t correct_pts = 0, robot_pts = 0, penalty = 0, fooling = 0, fooled = 0;
    if (active) {
      if (p["final_vote"] == correct) correct_pts = 1000;
      if (p["elimination_vote"] == robot) robot_pts = 500;
      if (p["final_vote"] == robot) penalty = -500;
      if (authored.count(seat))
        for (const auto& q : rs["players"])
          if (q["seat"] != seat && q["final_vote"] == authored[seat] &&
              snapshot_after["players"][q["seat"].get<std::size_t>()]["active"].get<bool>()) {
            fooling += 500;
            ++fooled;
          }
    }
    CHECK(p["correct_points"] == correct_pts);
    CHECK(p["robot_points"] == robot_pts);
    CHECK(p["penalty_points"] == penalty);
    CHECK(p["fooling_points"] == fooling);
    CHECK(p["players_fooled"] == fooled);
    const std::int64_t points = correct_pts + robot_pts + penalty + fooling;
    CHECK(p["points"] == points);
    auto& total = totals[p["player_id"]];
    total += p["points"].get<std::int64_t>();
    CHECK(p["score"] == total);
    CHECK(snapshot_after["players"][static_cast<std::size_t>(seat)]["score"] == total);
  }
}

// Standings sorted by score, then correct finds; winner is the first.
inline void check_standings(const json& result, const std::map<std::string, std::int64_t>& totals, std::size_t seats) {
  INFO("result: " << result.dump());
  const auto& st = result["standings"];
  REQUIRE(st.size() == seats);
  CHECK(result["winner"] == st[0]["player_id"]);
  for (std::size_t i = 0; i < st.size(); ++i) {
    const auto it = totals.find(st[i]["player_id"]);
    REQUIRE(it != totals.end());
    CHECK(st[i]["score"] == it->second);
    if (i > 0) {
      const auto prev = st[i - 1]["score"].get<std::int64_t>(), cur = st[i]["score"].get<std::int64_t>();
      CHECK(prev >= cur);
      if (prev == cur) CHECK(st[i - 1]["correct"].get<int>() >= st[i]["correct"].get<int>());
    }
  }
}

}  // namespace mtown::test::games
