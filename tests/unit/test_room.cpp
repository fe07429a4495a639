// Room membership, broadcasts and lifetime on a single-threaded io_context with recording
// members (RoomRegistry is in test_room_registry.cpp).
#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "mtown/games/registry.hpp"
#include "mtown/server/room.hpp"
#include "mtown/server/server_metrics.hpp"

using namespace mtown::server;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

class Recorder : public RoomMember {
 public:
  void deliver(const mtown::core::SharedMessage& m) override { msgs.push_back(json::parse(m->body)); }
  void on_left_room(const Room* room) override {
    ++left;
    left_room = room;
  }
  std::vector<std::string> types() const {
    std::vector<std::string> out;
    for (const auto& m : msgs) out.push_back(m["type"].get<std::string>());
    return out;
  }
  const json& last() const { return msgs.back(); }

  std::vector<json> msgs;
  int left = 0;
  const Room* left_room = nullptr;
};

using Types = std::vector<std::string>;

std::vector<std::string> player_ids(const json& room) {
  std::vector<std::string> out;
  for (const auto& p : room["players"]) out.push_back(p["id"].get<std::string>());
  return out;
}

struct RoomFixture {
  explicit RoomFixture(RoomSettings s = {"KX7P", "party", 8, true, 30s, 14400s, {}, {}}) {
    room = std::make_shared<Room>(net::make_strand(ioc), std::move(s), [this](const Room&) { ++closed; });
  }
  void drain() {
    ioc.restart();
    ioc.poll();
  }
  void run_for(std::chrono::milliseconds d) {
    ioc.restart();
    ioc.run_for(d);
  }
  std::shared_ptr<Recorder> join(const std::string& id, json rid = nullptr) {
    auto r = std::make_shared<Recorder>();
    room->join(r, id, "name-" + id, std::move(rid));
    drain();
    return r;
  }

  net::io_context ioc;
  int closed = 0;
  std::shared_ptr<Room> room;
};

}  // namespace

TEST_CASE("room: join order, host and the messages each member gets", "[room]") {
  RoomFixture f;
  f.room->start();
  auto a = f.join("pA", "r-a");
  REQUIRE(a->types() == Types{"room_joined", "room_state"});
  CHECK(a->msgs[0]["rid"] == "r-a");
  CHECK(a->msgs[0]["you"] == "pA");
  CHECK(a->msgs[0]["room"]["host"] == "pA");
  CHECK(a->msgs[0]["room"]["code"] == "KX7P");
  CHECK(a->msgs[0]["room"]["game"] == "party");
  CHECK(a->msgs[0]["room"]["max_players"] == 8);
  CHECK(a->msgs[0]["room"]["status"] == "waiting");

  auto b = f.join("pB");
  auto c = f.join("pC", 9);
  REQUIRE(b->types() == Types{"room_joined", "room_state", "player_joined", "room_state"});
  CHECK_FALSE(b->msgs[0].contains("rid"));
  CHECK(c->msgs[0]["rid"] == 9);
  CHECK(a->types() == Types{"room_joined", "room_state", "player_joined", "room_state", "player_joined", "room_state"});
  CHECK(a->msgs[2]["player"] == json{{"id", "pB"}, {"name", "name-pB"}, {"is_host", false}, {"connected", true}, {"ai", false}});
  CHECK(a->msgs[4]["player"]["id"] == "pC");
  CHECK(a->msgs[4]["code"] == "KX7P");

  const json& state = c->last()["room"];
  CHECK(player_ids(state) == std::vector<std::string>{"pA", "pB", "pC"});
  CHECK(state["host"] == "pA");
  CHECK(state["players"][0]["is_host"] == true);
  CHECK(state["players"][1]["is_host"] == false);
  CHECK(state["players"][2]["is_host"] == false);
  CHECK(a->last() == c->last());  // one room_state for everybody
  CHECK(f.room->summary().players == 3);

  auto again = std::make_shared<Recorder>();
  f.room->join(again, "pB", "dup", "r");
  f.drain();
  REQUIRE(again->types() == Types{"error"});
  CHECK(again->last()["code"] == "ALREADY_IN_ROOM");
  CHECK(f.room->summary().players == 3);
}

TEST_CASE("room: ROOM_FULL at max_players leaves the room unchanged", "[room]") {
  RoomFixture f({"FULL", "arena", 2, true, 30s, 14400s, {}, {}});
  f.room->start();
  auto a = f.join("pA");
  auto b = f.join("pB");
  const auto a_seen = a->msgs.size(), b_seen = b->msgs.size();
  auto c = f.join("pC", "r-c");
  REQUIRE(c->types() == Types{"error"});
  CHECK(c->last()["code"] == "ROOM_FULL");
  CHECK(c->last()["rid"] == "r-c");
  CHECK(c->left == 1);
  CHECK(c->left_room == f.room.get());
  CHECK(a->msgs.size() == a_seen);
  CHECK(b->msgs.size() == b_seen);
  CHECK(f.room->summary().players == 2);
  CHECK(f.closed == 0);
}

TEST_CASE("room: leaving", "[room]") {
  RoomFixture f;
  f.room->start();
  auto a = f.join("pA");
  auto b = f.join("pB");
  auto c = f.join("pC");
  for (auto* r : {a.get(), b.get(), c.get()}) r->msgs.clear();

  SECTION("the host leaves: the earliest remaining joiner becomes host") {
    f.room->leave("pA", a, "bye");
    f.drain();
    REQUIRE(a->types() == Types{"room_left"});
    CHECK(a->last() == json{{"type", "room_left"}, {"code", "KX7P"}, {"rid", "bye"}});
    for (auto* r : {b.get(), c.get()}) {
      REQUIRE(r->types() == Types{"player_left", "host_changed", "room_state"});
      CHECK(r->msgs[0] == json{{"type", "player_left"}, {"code", "KX7P"}, {"player_id", "pA"}, {"reason", "left"}});
      CHECK(r->msgs[1] == json{{"type", "host_changed"}, {"code", "KX7P"}, {"host", "pB"}});
      CHECK(r->msgs[2]["room"]["host"] == "pB");
      CHECK(player_ids(r->msgs[2]["room"]) == std::vector<std::string>{"pB", "pC"});
      CHECK(r->msgs[2]["room"]["players"][0]["is_host"] == true);
    }
    CHECK(f.room->summary().players == 2);
  }
  SECTION("a non-host leaves: no host change") {
    f.room->leave("pB", b, nullptr);
    f.drain();
    REQUIRE(b->types() == Types{"room_left"});
    CHECK_FALSE(b->last().contains("rid"));
    CHECK(a->types() == Types{"player_left", "room_state"});
    CHECK(a->last()["room"]["host"] == "pA");
  }
  SECTION("a disconnect is announced with reason disconnected") {
    f.room->leave("pC", nullptr, nullptr);
    f.drain();
    CHECK(c->msgs.empty());
    REQUIRE(a->types() == Types{"player_left", "room_state"});
    CHECK(a->msgs[0]["reason"] == "disconnected");
  }
  SECTION("a non-member gets NOT_IN_ROOM") {
    auto stranger = std::make_shared<Recorder>();
    f.room->leave("pZ", stranger, "r-z");
    f.room->chat("pZ", "hello?", stranger, 4);
    f.drain();
    REQUIRE(stranger->types() == Types{"error", "error"});
    CHECK(stranger->msgs[0]["code"] == "NOT_IN_ROOM");
    CHECK(stranger->msgs[0]["rid"] == "r-z");
    CHECK(stranger->msgs[1]["code"] == "NOT_IN_ROOM");
    CHECK(stranger->msgs[1]["rid"] == 4);
    CHECK(a->msgs.empty());
    CHECK(f.room->summary().players == 3);
  }
  CHECK(f.closed == 0);
}

TEST_CASE("room: chat reaches every member, sender included", "[room]") {
  RoomFixture f;
  f.room->start();
  auto a = f.join("pA");
  auto b = f.join("pB");
  a->msgs.clear();
  b->msgs.clear();
  f.room->chat("pB", "hi all", b, "r");
  f.drain();
  for (auto* r : {a.get(), b.get()}) {
    REQUIRE(r->types() == Types{"chat"});
    CHECK(r->last()["code"] == "KX7P");
    CHECK(r->last()["from"] == "pB");
    CHECK(r->last()["name"] == "name-pB");
    CHECK(r->last()["text"] == "hi all");
    CHECK(r->last()["ts_ms"].is_number_integer());
  }
}

TEST_CASE("room: close tells members once and fires on_closed once", "[room]") {
  RoomFixture f;
  f.room->start();
  auto a = f.join("pA");
  auto b = f.join("pB");
  a->msgs.clear();
  b->msgs.clear();
  int done = 0;
  f.room->close(RoomCloseReason::shutdown, [&] { ++done; });
  f.drain();
  for (auto* r : {a.get(), b.get()}) {
    REQUIRE(r->types() == Types{"room_closed"});
    CHECK(r->last() == json{{"type", "room_closed"}, {"code", "KX7P"}, {"reason", "shutdown"}});
    CHECK(r->left == 1);
    CHECK(r->left_room == f.room.get());
  }
  CHECK(done == 1);
  CHECK(f.closed == 1);
  CHECK(f.room->summary().players == 0);

  f.room->close(RoomCloseReason::expired);
  auto late = f.join("pC", "r-late");
  f.drain();
  CHECK(f.closed == 1);
  CHECK(a->msgs.size() == 1);
  REQUIRE(late->types() == Types{"error"});
  CHECK(late->last()["code"] == "ROOM_CLOSED");
  CHECK(late->last()["rid"] == "r-late");
  CHECK(late->left == 1);
}

TEST_CASE("room: ttl expiry closes with reason expired", "[room]") {
  RoomFixture f({"TTLX", "party", 8, true, 30s, 0s, {}, {}});
  auto a = std::make_shared<Recorder>();
  f.room->join(a, "pA", "Ada", nullptr);  // queued before start(): runs first on the strand
  f.room->start();
  f.run_for(50ms);
  REQUIRE(a->types() == Types{"room_joined", "room_state", "room_closed"});
  CHECK(a->last()["reason"] == "expired");
  CHECK(a->left == 1);
  CHECK(f.closed == 1);
}

TEST_CASE("room: an empty room closes after the grace period", "[room]") {
  SECTION("last member leaves, grace 0 s") {
    RoomFixture f({"EMPT", "party", 8, true, 0s, 14400s, {}, {}});
    auto a = std::make_shared<Recorder>();
    f.room->start();
    f.room->join(a, "pA", "Ada", nullptr);
    f.drain();
    REQUIRE(f.closed == 0);
    f.room->leave("pA", a, nullptr);
    f.run_for(50ms);
    CHECK(f.closed == 1);
    CHECK(a->types() == Types{"room_joined", "room_state", "room_left"});  // no room_closed: nobody left
  }
  SECTION("nobody ever joins, grace 0 s") {
    RoomFixture f({"NOBO", "party", 8, true, 0s, 14400s, {}, {}});
    f.room->start();
    f.run_for(50ms);
    CHECK(f.closed == 1);
  }
  SECTION("a join within the grace keeps it open, grace 1 s") {
    RoomFixture f({"KEEP", "party", 8, true, 1s, 14400s, {}, {}});
    f.room->start();
    auto a = f.join("pA");
    f.room->leave("pA", a, nullptr);
    f.drain();
    auto b = f.join("pB");
    f.run_for(1300ms);
    CHECK(f.closed == 0);
    CHECK(f.room->summary().players == 1);
    CHECK(b->left == 0);
  }
}

TEST_CASE("room: an input goes to its sender's seat whatever the member's input hint says", "[room]") {
  ServerMetrics metrics;
  const RoomServices services{metrics, mtown::games::builtin_questions(), nullptr, nullptr, 60, {}, nullptr, nullptr};
  net::io_context ioc;
  auto room = std::make_shared<Room>(net::make_strand(ioc), RoomSettings{"HINT", "arena", 8, true, 30s, 14400s, {}, {}},
                                     [](const Room&) {}, &services);
  const auto run = [&](std::chrono::milliseconds d) {
    ioc.restart();
    ioc.run_for(d);
  };
  // Runs the room's ticks until `done` holds (a loaded sanitizer run may stall a tick).
  const auto run_until = [&](const std::function<bool()>& done) {
    for (int i = 0; i < 300 && !done(); ++i) run(10ms);
    return done();
  };
  room->start();
  std::vector<std::shared_ptr<Recorder>> m;
  for (const char* id : {"pA", "pB", "pC"}) {
    m.push_back(std::make_shared<Recorder>());
    room->join(m.back(), id, id, nullptr);
  }
  room->start_game("pA", json::object(), m[0], nullptr);
  run(20ms);
  const auto last_acks = [&](const Recorder& r) {
    for (auto it = r.msgs.rbegin(); it != r.msgs.rend(); ++it)
      if ((*it)["type"] == "state") return (*it)["acks"];
    return json();
  };
  const auto input = [&](const char* id, std::uint64_t seq, const std::shared_ptr<Recorder>& who) {
    room->input(id, seq, {{"action", "move"}, {"dx", 1000}, {"dy", 0}}, who, nullptr);
  };
  const auto hint = [](std::uint64_t member, std::uint64_t seat) { return member << 32 | seat; };

  input("pA", 5, m[0]);
  CHECK(run_until([&] { return last_acks(*m[0]) == json::array({5, 0, 0}); }));
  CHECK(m[0]->input_hint.load() == hint(0, 0));

  // A hint naming another member's slot and seat is checked and not trusted.
  m[1]->input_hint = hint(0, 0);
  input("pB", 7, m[1]);
  CHECK(run_until([&] { return last_acks(*m[1]) == json::array({5, 7, 0}); }));
  CHECK(m[1]->input_hint.load() == hint(1, 1));

  // pA leaves: pB is now the first member but keeps seat 1; its old hint is stale.
  room->leave("pA", m[0], nullptr);
  input("pB", 8, m[1]);
  CHECK(run_until([&] { return last_acks(*m[1]) == json::array({5, 8, 0}); }));
  CHECK(m[1]->input_hint.load() == hint(0, 1));

  // A connection that is not a member is refused, whatever its hint points at.
  auto stranger = std::make_shared<Recorder>();
  stranger->input_hint = hint(0, 1);
  input("pX", 9, stranger);
  REQUIRE(run_until([&] { return !stranger->msgs.empty(); }));
  REQUIRE(stranger->msgs.size() == 1);
  CHECK(stranger->last()["code"] == "NOT_IN_ROOM");
  CHECK(stranger->last()["input_seq"] == 9);
  const auto states = m[1]->msgs.size();
  CHECK(run_until([&] { return m[1]->msgs.size() > states; }));  // a tick after the refusal
  CHECK(last_acks(*m[1]) == json::array({5, 8, 0}));
  room->close(RoomCloseReason::by_operator);
  run(20ms);
}

TEST_CASE("room: arena rooms tick in lanes of their own, at the lane's phase, and give the lane back", "[room]") {
  using std::chrono::steady_clock;
  // Stamps each state message when the room hands it over: the tick's time plus the step.
  class Stamped : public Recorder {
   public:
    void deliver(const mtown::core::SharedMessage& m) override {
      Recorder::deliver(m);
      if (msgs.back()["type"] == "state") times.push_back(steady_clock::now());
    }
    std::vector<steady_clock::time_point> times;
  };
  ServerMetrics metrics;
  mtown::core::TickLanes lanes(2);
  const RoomServices services{metrics, mtown::games::builtin_questions(), nullptr, nullptr, 60, {}, nullptr, &lanes};
  net::io_context ioc;
  std::vector<std::shared_ptr<Room>> rooms;
  std::vector<std::shared_ptr<Stamped>> hosts;
  for (const char* code : {"LANA", "LANB"}) {
    rooms.push_back(std::make_shared<Room>(net::make_strand(ioc), RoomSettings{code, "arena", 8, true, 30s, 14400s, {}, {}},
                                           [](const Room&) {}, &services));
    rooms.back()->start();
    hosts.push_back(std::make_shared<Stamped>());
    const std::string host = std::string(code) + "-host", guest = std::string(code) + "-guest";
    rooms.back()->join(hosts.back(), host, host, nullptr);
    rooms.back()->join(std::make_shared<Recorder>(), guest, guest, nullptr);
    rooms.back()->start_game(host, json::object(), hosts.back(), nullptr);
  }
  ioc.run_for(1100ms);
  CHECK(lanes.rooms_in(0) == 1);
  CHECK(lanes.rooms_in(1) == 1);

  // A timer never fires early, so each room's least lateness against its lane's phase is
  // small when the ticks are on the lane, and about half a period off on the other lane.
  const std::chrono::nanoseconds period(1'000'000'000 / 60);
  const auto least_lateness = [&](const Stamped& r, std::chrono::nanoseconds offset) {
    auto least = period;
    for (const auto t : r.times) {
      const auto since = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()) - offset;
      least = std::min(least, (since % period + period) % period);
    }
    return least;
  };
  REQUIRE(hosts[0]->times.size() >= 30);
  REQUIRE(hosts[1]->times.size() >= 30);
  const auto half = period / 2;
  const bool a_first = least_lateness(*hosts[0], {}) < 4ms && least_lateness(*hosts[1], half) < 4ms;
  const bool b_first = least_lateness(*hosts[1], {}) < 4ms && least_lateness(*hosts[0], half) < 4ms;
  CHECK((a_first || b_first));

  for (auto& room : rooms) room->close(RoomCloseReason::by_operator);
  ioc.restart();
  ioc.run_for(50ms);
  CHECK(lanes.rooms_in(0) == 0);
  CHECK(lanes.rooms_in(1) == 0);
}
