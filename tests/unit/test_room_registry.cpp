// RoomRegistry on a single-threaded io_context: distinct codes, SERVER_FULL, listing
// filters, and closed rooms leaving the registry (and the rooms gauge).
#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "mtown/core/games.hpp"
#include "mtown/core/room_code.hpp"
#include "mtown/server/room_registry.hpp"

using namespace mtown::server;
using namespace std::chrono_literals;

namespace {

// Counts the rooms that let it go; the registry tests need nothing more from a member.
class CountingMember : public RoomMember {
 public:
  void deliver(const mtown::core::SharedMessage&) override { ++delivered; }
  void on_left_room(const Room*) override { ++left; }
  int delivered = 0;
  int left = 0;
};

std::vector<std::string> codes_of(const std::vector<RoomSummary>& list) {
  std::vector<std::string> out;
  for (const auto& s : list) out.push_back(s.code);
  return out;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

TEST_CASE("room registry: create, limits, list and removal", "[room][registry]") {
  net::io_context ioc;
  mtown::core::ServeConfig cfg;
  cfg.max_rooms = 3;
  ServerMetrics metrics;
  RoomRegistry reg(ioc, cfg, metrics);
  const auto drain = [&] {
    ioc.restart();
    ioc.poll();
  };
  const auto& party = *mtown::core::find_game("party");
  const auto& arena = *mtown::core::find_game("arena");

  const auto p1 = reg.create(party, 2, true);
  const auto p2 = reg.create(party, 8, false);
  const auto a1 = reg.create(arena, 4, true);
  REQUIRE(p1.room);
  REQUIRE(p2.room);
  REQUIRE(a1.room);
  const std::set<std::string> codes{p1.room->code(), p2.room->code(), a1.room->code()};
  CHECK(codes.size() == 3);
  for (const auto& code : codes) CHECK(mtown::core::normalize_room_code(code) == code);
  CHECK(reg.size() == 3);
  CHECK(metrics.rooms("party").value() == 2);
  CHECK(metrics.rooms("arena").value() == 1);

  const auto full = reg.create(party, 8, true);
  CHECK_FALSE(full.room);
  CHECK(full.error == mtown::core::ErrorCode::server_full);
  CHECK(reg.size() == 3);

  CHECK(reg.find(p1.room->code()) == p1.room);
  CHECK(p1.room->game() == "party");

  CHECK(codes_of(reg.list({})) == sorted({p1.room->code(), a1.room->code()}));  // public only
  CHECK(codes_of(reg.list({"", std::nullopt, false})) == sorted({p1.room->code(), p2.room->code(), a1.room->code()}));
  CHECK(codes_of(reg.list({"arena", std::nullopt, true})) == std::vector<std::string>{a1.room->code()});
  CHECK(reg.list({"chess", std::nullopt, true}).empty());

  auto m1 = std::make_shared<CountingMember>(), m2 = std::make_shared<CountingMember>();
  p1.room->join(m1, "p1", "Ada", nullptr);
  p1.room->join(m2, "p2", "Bo", nullptr);
  drain();
  CHECK(codes_of(reg.list({"", true, true})) == std::vector<std::string>{a1.room->code()});
  CHECK(codes_of(reg.list({"", false, true})) == std::vector<std::string>{p1.room->code()});
  const auto summaries = reg.list({"party", std::nullopt, true});
  REQUIRE(summaries.size() == 1);
  CHECK(summaries[0].players == 2);
  CHECK(summaries[0].max_players == 2);

  const std::string closed_code = p1.room->code();
  p1.room->close(RoomCloseReason::shutdown);
  drain();
  CHECK(reg.find(closed_code) == nullptr);
  CHECK(reg.size() == 2);
  CHECK(metrics.rooms("party").value() == 1);
  CHECK(codes_of(reg.list({"", std::nullopt, false})) == sorted({p2.room->code(), a1.room->code()}));
  CHECK(m1->left == 1);
  CHECK(reg.create(party, 8, true).room);  // the freed slot can be used again

  int done = 0;
  reg.close_all(RoomCloseReason::shutdown, [&] { ++done; });
  drain();
  CHECK(done == 1);
  CHECK(reg.size() == 0);
  CHECK(metrics.rooms("party").value() == 0);
  CHECK(metrics.rooms("arena").value() == 0);
  reg.close_all(RoomCloseReason::shutdown, [&] { ++done; });  // nothing open: done at once
  CHECK(done == 2);
}

TEST_CASE("room registry: a room nobody joins closes after rooms.empty_grace_s", "[room][registry]") {
  net::io_context ioc;
  mtown::core::ServeConfig cfg;
  cfg.room_empty_grace_s = 0;
  ServerMetrics metrics;
  RoomRegistry reg(ioc, cfg, metrics);
  const auto created = reg.create(*mtown::core::find_game("arena"), 8, true);
  REQUIRE(created.room);
  const std::string code = created.room->code();
  CHECK(reg.find(code) == created.room);
  ioc.run_for(50ms);
  CHECK(reg.find(code) == nullptr);
  CHECK(reg.size() == 0);
}
