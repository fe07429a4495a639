// mtown_store against real databases (a SQLite file and a fresh PostgreSQL database):
// what write_batch stores reads back as the same recording, the API queries, the
// question table, and the batching writer thread (and the log lines of its drops).
#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "mtown/core/log.hpp"
#include "mtown/store/record_writer.hpp"
#include "mtown/store/recordings.hpp"
#include "recording_helpers.hpp"
#include "ws_client.hpp"

using namespace mtown;
using mtown::test::recording::TestDatabase;
using nlohmann::json;

namespace {

core::RecordingHeader party_header(const std::string& id) {
  core::RecordingHeader h;
  h.game_id = id;
  h.game = "party";
  h.game_version = 2;
  h.seed = 0xFEDCBA9876543210ull;  // above INT64_MAX: stored as BIGINT bits, config keeps it
  h.options = {{"rounds", 8}, {"questions", json::array({{{"id", "q1"}, {"text", "é ünïcode"}}})}};
  h.seats = {{"p_ann", "Ann", false, core::AiDifficulty::medium}, {"ai_x", "Robot 1 (hard)", true, core::AiDifficulty::hard}};
  h.room_code = "KX7P";
  h.started_at_ms = 1790000000000;
  return h;
}

core::Recording party_recording(const std::string& id) {
  core::Recording r;
  r.header = party_header(id);
  const json result{{"winner", "p_ann"},
                    {"standings",
                     {{{"player_id", "p_ann"}, {"name", "Ann"}, {"score", 900}, {"correct", 3}, {"robots_spotted", 2},
                       {"fooled_others", 1}, {"times_fooled", 0}, {"ai", false}},
                      {{"player_id", "ai_x"}, {"name", "Robot 1 (hard)"}, {"score", 400}, {"correct", 1},
                       {"robots_spotted", 0}, {"fooled_others", 0}, {"times_fooled", 2}, {"ai", true}}}}};
  r.entries = {core::RecordedStep{0, {}},
               core::RecordedEvent{0, {{"event", "phase"}, {"phase", "question"}, {"round", 1}}},
               core::RecordedHash{0, 11, {{"phase", "question"}}, ""},
               core::RecordedStep{1500, {{0, 1, {{"action", "answer"}, {"text", "a \"quoted\" fake"}}}}},
               core::RecordedHash{1500, 12, {{"phase", "question"}}, ""},
               core::RecordedStep{1501, {{0, 2, {{"action", "vote"}, {"answer", "a1"}}}, {1, 0, {{"action", "vote"}, {"answer", "a2"}}}}},
               core::RecordedHash{1501, 13, {{"phase", "voting"}}, ""},
               core::RecordedEnd{1501, 13, "completed", result}};
  return r;
}

// What the writer thread does with a recording: one batch.
store::Batch batch_of(const core::Recording& r, std::int64_t ended_at_ms) {
  store::Batch b;
  b.begins.push_back({r.header, {4, "p_ann"}});
  std::int64_t seq = 1;
  for (const auto& e : r.entries)
    for (auto& row : store::entry_to_rows(r.header.game_id, e, r.header.seats, seq)) b.events.push_back(std::move(row));
  const auto& end = std::get<core::RecordedEnd>(r.entries.back());
  b.finishes.push_back({r.header, {4, "p_ann"}, end.status, ended_at_ms, end.result});
  return b;
}

void check_same(const core::Recording& a, const core::Recording& b) {
  CHECK(core::header_to_json(a.header) == core::header_to_json(b.header));
  REQUIRE(a.entries.size() == b.entries.size());
  for (std::size_t i = 0; i < a.entries.size(); ++i) CHECK(core::entry_to_json(a.entries[i]) == core::entry_to_json(b.entries[i]));
}

}  // namespace

TEST_CASE("store: a recording round-trips through game_events on both dialects", "[store][recording]") {
  for (const char* dialect : {"sqlite", "postgres"}) {
    INFO(dialect);
    TestDatabase t(dialect);
    const auto rec = party_recording("g_round1");
    store::write_batch(t.db(), batch_of(rec, rec.header.started_at_ms + 65000));
    store::write_batch(t.db(), batch_of(rec, rec.header.started_at_ms + 65000));  // a retried batch adds nothing
    store::refresh_leaderboard(t.db());

    const auto back = store::load_recording(t.url(), "g_round1");
    REQUIRE(back);
    check_same(rec, *back);
    CHECK_FALSE(store::load_recording(t.url(), "g_missing"));
    CHECK(t.scalar("SELECT COUNT(*) FROM game_events WHERE game_id = 'g_round1'") == 9);
    CHECK(t.scalar("SELECT COUNT(*) FROM game_events WHERE kind = 'input'") == 3);

    // games row, participants with scores, player_game_stats, room_history.
    const auto list = store::list_recordings(t.url(), 10);
    REQUIRE(list.size() == 1);
    CHECK(list[0].game_id == "g_round1");
    CHECK(list[0].status == "completed");
    CHECK(list[0].started_at == "2026-09-21T14:13:20.000Z");
    CHECK(list[0].ended_at == "2026-09-21T14:14:25.000Z");
    CHECK(list[0].events == 9);
    const auto game = store::game_json(t.db(), "g_round1");
    REQUIRE(game);
    const auto& g = (*game)["game"];
    CHECK(g["seed"] == 0xFEDCBA9876543210ull);
    CHECK(g["result"]["winner"] == "p_ann");
    REQUIRE(g["participants"].size() == 2);
    CHECK(g["participants"][0] == json{{"seat", 0}, {"player_id", "p_ann"}, {"name", "Ann"}, {"ai", false}, {"score", 900}});
    CHECK(g["participants"][1]["player_id"].is_null());
    CHECK(g["participants"][1]["ai"] == true);
    CHECK_FALSE(store::game_json(t.db(), "g_missing"));
    CHECK(t.scalar("SELECT COUNT(*) FROM players WHERE id = 'p_ann'") == 1);
    CHECK(t.scalar("SELECT placement FROM player_game_stats WHERE player_name = 'Robot 1 (hard)'") == 2);
    CHECK(t.scalar("SELECT duration_s FROM room_history WHERE game_id = 'g_round1'") == 65);
    const auto board = store::leaderboard_json(t.db(), 10)["leaderboard"];
    REQUIRE(board.size() == 2);
    CHECK(board[0]["player_name"] == "Ann");
    CHECK(board[0]["wins"] == 1);
    CHECK(board[0]["total_correct"] == 3);
  }
}

TEST_CASE("store: corrupt rows are refused, not guessed at", "[store][recording]") {
  TestDatabase t("sqlite");
  const auto rec = party_recording("g_bad");
  store::write_batch(t.db(), batch_of(rec, rec.header.started_at_ms));
  t.db().query("UPDATE game_events SET kind = 'bogus' WHERE seq = 2 AND game_id = 'g_bad'");
  CHECK_THROWS_AS(store::load_recording(t.url(), "g_bad"), core::RecordingError);
  t.db().query("UPDATE games SET config = '{\"mtrec\": 99}' WHERE id = 'g_bad'");
  try {
    store::load_recording(t.url(), "g_bad");
    FAIL("read a newer format");
  } catch (const core::RecordingError& e) {
    CHECK(e.kind() == core::RecordingErrorKind::newer_format);
  }
  CHECK_THROWS_AS(store::load_recording("sqlite:" + std::string("/nonexistent-dir/x.db"), "g"), store::StoreError);
}

TEST_CASE("store: the questions table as a pool", "[store]") {
  for (const char* dialect : {"sqlite", "postgres"}) {
    INFO(dialect);
    TestDatabase t(dialect);
    CHECK(store::question_pool_json(t.db()).empty());
    t.db().query("INSERT INTO questions (id, text, correct, robot, decoys) VALUES ($1, $2, $3, $4, $5)",
                 {"q1", "Why?", "Because", "Robots", "[\"a\",\"b\"]"});
    const auto pool = store::question_pool_json(t.db());
    REQUIRE(pool.size() == 1);
    CHECK(pool[0] == json{{"id", "q1"}, {"text", "Why?"}, {"correct", "Because"}, {"robot", "Robots"}, {"decoys", {"a", "b"}}});
  }
}

TEST_CASE("store writer: batches by count and by time, and writes everything before stop returns", "[store][threads]") {
  TestDatabase t("sqlite");
  core::MetricsRegistry metrics;
  store::WriterSettings s;
  s.batch_max_rows = 50;
  s.batch_max_ms = std::chrono::milliseconds(100);
  auto writer = std::make_shared<store::RecordWriter>(t.url(), s, metrics);
  writer->start();
  auto rec = writer->recorder({2, "p_ann"});
  auto header = party_header("g_writer");
  rec->begin(header);
  for (std::uint64_t i = 1; i <= 120; ++i) rec->record(core::RecordedStep{i, {{0, i, {{"n", i}}}}});
  // By time: one more record alone is written within batch_max_ms (plus a loaded machine's slack).
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (t.scalar("SELECT COUNT(*) FROM game_events") < 120 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(t.scalar("SELECT COUNT(*) FROM game_events") == 120);
  rec->record(core::RecordedEnd{121, 5, "aborted", nullptr});
  writer->stop(std::chrono::seconds(5));
  CHECK(t.scalar("SELECT COUNT(*) FROM game_events") == 121);
  CHECK(t.scalar("SELECT COUNT(*) FROM games WHERE status = 'aborted' AND ended_at IS NOT NULL") == 1);
  // 121 event rows + the begin + the finish; batches of 50 at most, so at least 3.
  const auto text = metrics.render();
  CHECK(text.find("mtown_recording_rows_written_total 123") != std::string::npos);
  CHECK(text.find("mtown_recording_batches_total 1\n") == std::string::npos);
  CHECK(text.find("mtown_recording_dropped_total{reason=\"queue_full\"} 0") != std::string::npos);
  // After stop, records are refused and counted.
  CHECK_FALSE(writer->enqueue(store::RecordWriter::Entry{"g_writer", core::RecordedStep{200, {}}, 0}));
  CHECK(metrics.render().find("mtown_recording_dropped_total{reason=\"shutdown\"} 1") != std::string::npos);
}

TEST_CASE("store writer: a full queue drops and counts, an unreachable database buffers", "[store][threads]") {
  core::MetricsRegistry metrics;
  store::WriterSettings s;
  s.queue_max_records = 10;
  s.retry_max_backoff = std::chrono::milliseconds(100);
  // A SQLite path whose directory does not exist: every open fails (transient).
  auto writer = std::make_shared<store::RecordWriter>("sqlite:/nonexistent-mtown-dir/x.db", s, metrics);
  writer->start();
  auto rec = writer->recorder({2, ""});
  rec->begin(party_header("g_full"));
  for (std::uint64_t i = 1; i <= 30; ++i) rec->record(core::RecordedStep{i, {}});
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (writer->health().ok && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const auto h = writer->health();
  CHECK_FALSE(h.ok);
  CHECK(h.error.find("cannot open SQLite database") != std::string::npos);
  const auto text = metrics.render();
  CHECK(text.find("mtown_recording_database_up 0") != std::string::npos);
  // 31 records, at most 10 queued plus one batch in hand: at least 11 dropped, counted.
  const auto at = text.find("mtown_recording_dropped_total{reason=\"queue_full\"} ");
  REQUIRE(at != std::string::npos);
  CHECK(std::stoi(text.substr(at + 51)) >= 11);
  writer->stop(std::chrono::milliseconds(200));
  CHECK(metrics.render().find("mtown_recording_dropped_total{reason=\"shutdown\"} 0") == std::string::npos);
}

namespace {

// Sends this process's stderr (where core::log writes) to a file while alive.
class StderrCapture {
 public:
  StderrCapture() : path_(std::filesystem::temp_directory_path() / ("mtown-stderr-" + std::to_string(::getpid()))) {
    core::Logger::instance().configure(core::LogLevel::info, core::LogFormat::json);
    saved_ = ::dup(STDERR_FILENO);
    const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    REQUIRE(fd >= 0);
    ::dup2(fd, STDERR_FILENO);
    ::close(fd);
  }
  ~StderrCapture() {
    restore();
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
    core::Logger::instance().configure(core::LogLevel::info, core::LogFormat::automatic);
  }
  // Restores stderr and returns what was written to it.
  std::string take() {
    restore();
    std::ifstream in(path_);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
    saved_ = -1;
  }
  std::filesystem::path path_;
  int saved_ = -1;
};

double dropped_metric(const core::MetricsRegistry& m, const std::string& reason) {
  return mtown::test::metric_value(m.render(), "mtown_recording_dropped_total{reason=\"" + reason + "\"}");
}

}  // namespace

TEST_CASE("store writer: drops the log throttle held back are logged at stop", "[store][threads]") {
  core::MetricsRegistry metrics;
  store::WriterSettings s;
  s.queue_max_records = 10;
  s.retry_max_backoff = std::chrono::milliseconds(100);
  StderrCapture capture;
  auto writer = std::make_shared<store::RecordWriter>("sqlite:/nonexistent-mtown-dir/x.db", s, metrics);
  writer->start();
  auto rec = writer->recorder({2, ""});
  rec->begin(party_header("g_quiet"));
  // The writer holds the begin in a failing batch, so the queue never drains again.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (writer->health().ok && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE_FALSE(writer->health().ok);
  // 30 records into 10 places within well under the 1 s throttle window: the first drop
  // is logged at once, the rest only as a count at stop().
  for (std::uint64_t i = 1; i <= 30; ++i) rec->record(core::RecordedStep{i, {}});
  CHECK(dropped_metric(metrics, "queue_full") == 20);
  writer->stop(std::chrono::milliseconds(200));
  const auto log = capture.take();
  INFO(log);
  auto logged = mtown::test::recording::logged_drops(log);
  CHECK(logged["queue_full"] == 20);
  // The begin and the 10 queued records, unwritten at the flush deadline.
  CHECK(dropped_metric(metrics, "shutdown") == 11);
  CHECK(logged["shutdown"] == 11);
}
