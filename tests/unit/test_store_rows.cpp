// Recording entries <-> game_events rows (docs/recording.md), and the writer's pure
// parts: backoff and when a batch is due.
#include <catch2/catch.hpp>

#include "mtown/store/record_writer.hpp"
#include "mtown/store/rows.hpp"

using namespace mtown;
using nlohmann::json;
using std::chrono::milliseconds;

namespace {

const std::vector<core::GameSeat> kSeats{{"p_a", "Ada", false, core::AiDifficulty::medium},
                                         {"ai_1", "Bot", true, core::AiDifficulty::hard}};

std::vector<core::RecordingEntry> sample_entries() {
  return {core::RecordedStep{3, {{0, 7, {{"action", "move"}, {"dx", 1}}}, {1, 0, {{"action", "attack"}}}}},
          core::RecordedEvent{3, {{"event", "hit"}, {"by", 1}}},
          core::RecordedStep{4, {{0, 8, {{"action", "move"}, {"dx", -1}}}}},
          core::RecordedStep{5, {}},  // an event-driven step without inputs
          core::RecordedHash{60, 0x0123456789abcdefull, {{"players", json::array()}}, "0000000aff00ff00"},
          core::RecordedEnd{61, 42, "completed", {{"winner", "p_a"}}}};
}

std::vector<store::EventRow> rows_of(const std::vector<core::RecordingEntry>& entries) {
  std::vector<store::EventRow> rows;
  std::int64_t seq = 1;
  for (const auto& e : entries)
    for (auto& r : store::entry_to_rows("g_1", e, kSeats, seq)) rows.push_back(std::move(r));
  return rows;
}

}  // namespace

TEST_CASE("store rows: each record becomes the documented rows", "[store]") {
  const auto rows = rows_of(sample_entries());
  REQUIRE(rows.size() == 7);
  for (std::size_t i = 0; i < rows.size(); ++i) CHECK(rows[i].seq == static_cast<std::int64_t>(i + 1));
  CHECK(rows[0].kind == "input");
  CHECK(rows[0].event_type == "input");
  CHECK(rows[0].seat == 0u);
  CHECK(rows[0].player_id == "p_a");
  CHECK(rows[0].payload == json{{"input_seq", 7}, {"data", {{"action", "move"}, {"dx", 1}}}});
  CHECK(rows[1].player_id == "ai_1");
  CHECK((rows[2].kind == "state" && rows[2].event_type == "hit" && rows[2].payload["by"] == 1));
  CHECK((rows[4].kind == "system" && rows[4].event_type == "step" && rows[4].payload == json::object()));
  CHECK((rows[5].event_type == "hash" && rows[5].payload["hash"] == "0123456789abcdef" &&
         rows[5].payload["tick_hashes"] == "0000000aff00ff00"));
  CHECK((rows[6].event_type == "end" && rows[6].payload["status"] == "completed" &&
         rows[6].payload["hash"] == "000000000000002a" && rows[6].payload["result"]["winner"] == "p_a"));
  CHECK(!rows[6].seat);
}

TEST_CASE("store rows: rows read back as exactly the records written", "[store]") {
  const auto entries = sample_entries();
  const auto back = store::rows_to_entries(rows_of(entries));
  REQUIRE(back.size() == entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) CHECK(core::entry_to_json(back[i]) == core::entry_to_json(entries[i]));
}

TEST_CASE("store rows: input rows of one tick split by other rows stay separate steps", "[store]") {
  // Two event-driven steps in the same millisecond, a hash row between them.
  const std::vector<core::RecordingEntry> entries{core::RecordedStep{9, {{0, 1, {{"a", 1}}}}},
                                                  core::RecordedHash{9, 1, json::object(), ""},
                                                  core::RecordedStep{9, {{1, 2, {{"a", 2}}}}}};
  const auto back = store::rows_to_entries(rows_of(entries));
  REQUIRE(back.size() == 3);
  CHECK(std::get<core::RecordedStep>(back[0]).inputs.size() == 1);
  CHECK(std::get<core::RecordedStep>(back[2]).inputs.size() == 1);
}

TEST_CASE("store rows: a corrupt row is refused naming its seq", "[store]") {
  auto rows = rows_of(sample_entries());
  SECTION("unknown kind") { rows[3].kind = "weird"; }
  SECTION("input without seat") { rows[0].seat.reset(); }
  SECTION("bad hash") { rows[5].payload["hash"] = "xyz"; }
  SECTION("input_seq not a number") { rows[1].payload["input_seq"] = "seven"; }
  try {
    store::rows_to_entries(rows);
    FAIL("accepted a corrupt row");
  } catch (const core::RecordingError& e) {
    CHECK(e.kind() == core::RecordingErrorKind::corrupt);
    CHECK(std::string(e.what()).find("seq") != std::string::npos);
  }
}

TEST_CASE("store: timestamps are ISO-8601 UTC with milliseconds", "[store]") {
  CHECK(store::iso_utc_ms(0) == "1970-01-01T00:00:00.000Z");
  CHECK(store::iso_utc_ms(1790000000123) == "2026-09-21T14:13:20.123Z");
}

TEST_CASE("store writer: backoff doubles up to its cap and resets", "[store]") {
  store::Backoff b(milliseconds(50), milliseconds(300));
  CHECK(b.next() == milliseconds(50));
  CHECK(b.next() == milliseconds(100));
  CHECK(b.next() == milliseconds(200));
  CHECK(b.next() == milliseconds(300));
  CHECK(b.next() == milliseconds(300));
  CHECK(b.failures() == 5);
  b.reset();
  CHECK(b.next() == milliseconds(50));
}

TEST_CASE("store writer: a batch is due when full, old enough, or stopping", "[store]") {
  store::WriterSettings s;
  s.batch_max_rows = 10;
  s.batch_max_ms = milliseconds(100);
  const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  CHECK_FALSE(store::batch_due(0, t0, t0 + milliseconds(500), s, true));  // nothing to write
  CHECK_FALSE(store::batch_due(3, t0, t0 + milliseconds(99), s, false));
  CHECK(store::batch_due(3, t0, t0 + milliseconds(100), s, false));
  CHECK(store::batch_due(10, t0, t0, s, false));
  CHECK(store::batch_due(1, t0, t0, s, true));
}
