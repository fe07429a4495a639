// The recording format: .mtrec round trips, and every way a file can be refused.
#include <string>

#include <catch2/catch.hpp>

#include "mtown/core/recording.hpp"

using namespace mtown::core;
using nlohmann::json;

namespace {

Recording sample() {
  Recording r;
  r.header.game_id = "g_1";
  r.header.game = "arena";
  r.header.game_version = 3;
  r.header.tick_hz = 60;
  r.header.seed = 0xFFFFFFFFFFFFFFFFull;  // the full 64 bits survive JSON
  r.header.options = {{"match_s", 60}};
  r.header.seats = {{"p_a", "Ada", false, AiDifficulty::medium}, {"ai_1", "Bot", true, AiDifficulty::hard}};
  r.header.room_code = "KX7P";
  r.header.started_at_ms = 1790000000000;
  r.header.hash_every = 60;
  r.entries.push_back(RecordedStep{1, {{0, 7, {{"action", "move"}, {"dx", 1}}}}});
  r.entries.push_back(RecordedEvent{1, {{"event", "hit"}}});
  r.entries.push_back(RecordedHash{60, 0x0123456789abcdefull, {{"players", json::array()}}, "0000000aff00ff00"});
  r.entries.push_back(RecordedEnd{61, 42, "completed", {{"winner", "p_a"}}});
  return r;
}

}  // namespace

TEST_CASE("recording: .mtrec round trip keeps every field", "[recording]") {
  const auto original = sample();
  const auto text = to_mtrec(original);
  CHECK(std::count(text.begin(), text.end(), '\n') == 5);
  const auto back = from_mtrec(text);
  CHECK(header_to_json(back.header) == header_to_json(original.header));
  REQUIRE(back.entries.size() == original.entries.size());
  for (std::size_t i = 0; i < back.entries.size(); ++i)
    CHECK(entry_to_json(back.entries[i]) == entry_to_json(original.entries[i]));
  CHECK(back.header.seats[1].difficulty == AiDifficulty::hard);
  CHECK(std::get<RecordedHash>(back.entries[2]).hash == 0x0123456789abcdefull);
}

TEST_CASE("recording: hashes are 16 hex digits", "[recording]") {
  CHECK(hash_hex(0xabc) == "0000000000000abc");
  CHECK(parse_hash_hex("0000000000000abc") == 0xabcu);
  CHECK_FALSE(parse_hash_hex("abc"));
  CHECK_FALSE(parse_hash_hex("000000000000zabc"));
}

TEST_CASE("recording: a newer format is refused as such", "[recording]") {
  auto header = header_to_json(sample().header);
  header["mtrec"] = kRecordingFormat + 1;
  try {
    from_mtrec(header.dump() + "\n");
    FAIL("accepted a newer format");
  } catch (const RecordingError& e) {
    CHECK(e.kind() == RecordingErrorKind::newer_format);
    CHECK(std::string(e.what()).find("newer") != std::string::npos);
  }
}

TEST_CASE("recording: a corrupt file names the line", "[recording]") {
  const auto text = to_mtrec(sample());
  struct Case {
    std::string text;
    std::string expect;
  };
  const Case cases[] = {
      {"", "empty file"},
      {text + "{not json\n", "line 6: not valid JSON"},
      {text + R"({"t":"warp","tick":3})" "\n", "line 6: unknown record type"},
      {text + R"({"t":"hash","tick":3,"hash":"xyz","state":{},"tick_hashes":""})" "\n", "line 6: field \"hash\""},
      {text + R"({"t":"hash","tick":3,"hash":"0000000000000abc","state":{},"tick_hashes":"abc"})" "\n",
       "line 6: field \"tick_hashes\""},
      {text + R"({"t":"step","tick":"soon","inputs":[]})" "\n", "line 6: field \"tick\" has the wrong type"},
      {R"({"mtrec":1})" "\n", "line 1: missing field"},
  };
  for (const auto& c : cases) {
    INFO(c.expect);
    try {
      from_mtrec(c.text);
      FAIL("accepted a corrupt file");
    } catch (const RecordingError& e) {
      CHECK(e.kind() == RecordingErrorKind::corrupt);
      CHECK_THAT(e.what(), Catch::Contains(c.expect));
    }
  }
}
