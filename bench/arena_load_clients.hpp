// arena_load's clients: the shared options, measurement window and counters, and the
// Worker that owns one io_context and whole rooms of clients (WebSocket against mtown,
// or raw TCP frames against raw_floor). A Worker and its clients run on one thread.
#pragma once
#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace arena_load {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr int kRoomSize = 8;
constexpr std::size_t kRawHeaderBytes = 12;  // raw frame: u32 length (whole frame), u64 seq

struct Options {
  std::string host = "127.0.0.1";
  unsigned short port = 0;
  std::string path = "/ws";
  int clients = 400;
  double duration_s = 20, warmup_s = 3, input_hz = 20, setup_timeout_s = 120;
  int threads = 1;
  bool raw = false;
  std::size_t raw_input_bytes = 0;  // 0: the size of the WebSocket input frame
  int server_pid = 0;
  bool verify = false;  // cross-check the fast state scanner with a full JSON parse
};

// The measurement window, set once by the main thread after every room has started.
struct Window {
  std::atomic<Clock::rep> start{Clock::time_point::max().time_since_epoch().count()};
  std::atomic<Clock::rep> end{Clock::time_point::max().time_since_epoch().count()};
  bool contains(Clock::time_point t) const {
    const auto r = t.time_since_epoch().count();
    return r >= start.load(std::memory_order_relaxed) && r < end.load(std::memory_order_relaxed);
  }
};

struct Stats {
  std::vector<std::uint32_t> latency_us;   // inputs scheduled inside the window
  std::vector<double> state_rate;          // per client, state messages/s in the window
  std::uint64_t messages = 0, bytes = 0, state_messages = 0, state_bytes = 0, state_wire_bytes = 0;
  std::uint64_t inputs = 0, input_bytes = 0, unacked = 0, errors = 0, disconnects = 0;
};

// The WebSocket client's fast path for state messages (declared here to be testable):
// the seat's last_input_seq when the message's delta names it, else 0.
std::uint64_t delta_last_input_seq(std::string_view msg, std::string_view seat_key);
bool is_state(std::string_view msg);

class Client;

// One io_context (run by one thread), its rooms of clients, ramped up a few rooms at a
// time, and their counters. Clients call room_code / client_started / client_failed.
class Worker {
 public:
  Worker(const Options& o, Window& window, std::atomic<int>& started, std::atomic<int>& failed)
      : opts(o), window(window), endpoint(net::ip::make_address(o.host), o.port), started_(started), failed_(failed) {}
  void add_room() { rooms_.emplace_back(); }
  void begin();
  void room_code(int room, const std::string& code);
  void client_started(int room);
  void client_failed(int room);
  const std::string& code_of(int room) const { return rooms_[room].code; }
  Stats collect(double duration_s);
  void close_all();

  const Options& opts;
  Window& window;
  net::io_context ioc{1};
  Stats stats;
  tcp::endpoint endpoint;

 private:
  struct Room {
    std::string code;
    std::vector<std::shared_ptr<Client>> members;
    int started = 0, failed = 0;
  };
  void start_room(int room);
  void room_settled(int room);

  std::vector<Room> rooms_;
  int next_room_ = 0;
  std::atomic<int>& started_;
  std::atomic<int>& failed_;
};

}  // namespace arena_load
