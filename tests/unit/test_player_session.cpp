// PlayerSession's log on a single-threaded io_context: numbering, taking, replay versus
// snapshot on resume, takeover, and the end of a session without a seat.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "mtown/server/session_registry.hpp"

using namespace mtown::server;
using namespace std::chrono_literals;
using mtown::core::ServerType;

namespace {

struct FakeConnection : SessionConnection {
  void wake() override { ++wakes; }
  void superseded() override { was_superseded = true; }
  int wakes = 0;
  bool was_superseded = false;
};

struct Fixture {
  explicit Fixture(std::size_t buffer_messages = 100, int buffer_ms = 5000) {
    config.resume_buffer_messages = buffer_messages;
    config.resume_buffer_ms = buffer_ms;
    registry = std::make_unique<SessionRegistry>(ioc, config, metrics);
    session = registry->create();
    session->attach_first(first);
  }
  void push(int n) {
    for (int i = 0; i < n; ++i) session->push(mtown::core::encode_message(ServerType::pong, {{"n", ++pushed}}));
  }
  std::vector<std::uint64_t> take(const SessionConnection* conn, std::uint64_t& cursor, bool expect_ok = true) {
    std::vector<PlayerSession::Logged> out;
    CHECK(session->take(conn, cursor, out) == expect_ok);
    std::vector<std::uint64_t> seqs;
    for (const auto& m : out) seqs.push_back(m.seq);
    return seqs;
  }
  std::optional<PlayerSession::Resume> resume(const std::shared_ptr<FakeConnection>& conn, std::uint64_t last_seq) {
    return session->resume(conn, last_seq, [](const PlayerSession::Resume& r) {
      return mtown::core::encode_message(ServerType::resumed, {{"replayed", r.replayed}, {"snapshot", r.snapshot}});
    });
  }

  boost::asio::io_context ioc;
  mtown::core::ServeConfig config;
  ServerMetrics metrics;
  std::unique_ptr<SessionRegistry> registry;
  std::shared_ptr<PlayerSession> session;
  std::shared_ptr<FakeConnection> first = std::make_shared<FakeConnection>();
  int pushed = 0;
};

using Seqs = std::vector<std::uint64_t>;

}  // namespace

TEST_CASE("session: messages are numbered 1, 2, 3 and each is taken once", "[session]") {
  Fixture f;
  std::uint64_t cursor = 0;
  f.push(3);
  CHECK(f.first->wakes == 1);  // one wake until the connection takes
  CHECK(f.take(f.first.get(), cursor) == Seqs{1, 2, 3});
  CHECK(f.take(f.first.get(), cursor).empty());
  f.push(1);
  CHECK(f.first->wakes == 2);
  CHECK(f.take(f.first.get(), cursor) == Seqs{4});
  CHECK(f.session->resume_token.size() == 34);
  CHECK(f.session->resume_token != f.registry->create()->resume_token);
}

TEST_CASE("session: untaken messages outlive the buffer limit while a connection is attached", "[session]") {
  Fixture f(2);
  std::uint64_t cursor = 0;
  f.push(5);
  CHECK(f.take(f.first.get(), cursor) == Seqs{1, 2, 3, 4, 5});
}

TEST_CASE("session: a resume replays exactly the gap, then resumed", "[session]") {
  Fixture f;
  std::uint64_t cursor = 0;
  f.push(5);
  f.take(f.first.get(), cursor);  // sent 1-5; the client processed only 1-3
  f.session->detach(f.first.get());
  f.push(2);  // 6, 7 while away
  auto second = std::make_shared<FakeConnection>();
  const auto r = f.resume(second, 3);
  REQUIRE(r);
  CHECK_FALSE(r->snapshot);
  CHECK(r->replayed == 4);
  CHECK(r->cursor == 3);
  CHECK(f.take(f.first.get(), cursor, false).empty());  // the old connection takes nothing more
  std::uint64_t c2 = r->cursor;
  CHECK(f.take(second.get(), c2) == Seqs{4, 5, 6, 7, 8});
  f.push(1);
  CHECK(f.take(second.get(), c2) == Seqs{9});
}

TEST_CASE("session: a gap the buffer no longer holds gets a snapshot", "[session]") {
  SECTION("too many messages") {
    Fixture f(3);
    std::uint64_t cursor = 0;
    f.push(2);
    f.take(f.first.get(), cursor);
    f.session->detach(f.first.get());
    f.push(4);  // 3-6; only 4-6 are kept
    auto second = std::make_shared<FakeConnection>();
    const auto r = f.resume(second, 2);
    REQUIRE(r);
    CHECK(r->snapshot);
    CHECK(r->replayed == 0);
    std::uint64_t c2 = r->cursor;
    CHECK(f.take(second.get(), c2) == Seqs{7});  // resumed only
  }
  SECTION("too old") {
    Fixture f(100, 1);
    std::uint64_t cursor = 0;
    f.push(2);
    f.take(f.first.get(), cursor);
    f.session->detach(f.first.get());
    std::this_thread::sleep_for(5ms);
    CHECK(f.resume(std::make_shared<FakeConnection>(), 1)->snapshot);
  }
  SECTION("a last_seq beyond what was sent") {
    Fixture f;
    f.push(2);
    CHECK(f.resume(std::make_shared<FakeConnection>(), 9)->snapshot);
  }
}

TEST_CASE("session: a resume takes over a connection that still looks alive", "[session]") {
  Fixture f;
  f.push(2);
  auto second = std::make_shared<FakeConnection>();
  const auto r = f.resume(second, 0);
  REQUIRE(r);
  CHECK(f.first->was_superseded);
  CHECK(r->replayed == 2);
  f.session->detach(f.first.get());  // the stale connection's close changes nothing
  f.ioc.poll();
  CHECK(f.registry->find(f.session->resume_token) == f.session);
  std::uint64_t c2 = r->cursor;
  CHECK(f.take(second.get(), c2) == Seqs{1, 2, 3});
}

TEST_CASE("session: without a seat a detached session ends after the buffer time", "[session]") {
  Fixture f(100, 20);
  f.session->detach(f.first.get());
  f.ioc.run_for(200ms);
  CHECK(f.registry->find(f.session->resume_token) == nullptr);
  CHECK_FALSE(f.resume(std::make_shared<FakeConnection>(), 0));
  CHECK(f.registry->size() == 0);
}
