// arena_load's clients: the fixed input schedule and acks (Client), the WebSocket client
// for mtown (rooms of 8, the state fast path) and the raw-frame client for raw_floor,
// and the Worker's room ramp. Everything here runs on its Worker's thread.
#include <algorithm>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <cstdio>
#include <cstring>
#include <deque>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>

#include "arena_load_clients.hpp"

namespace arena_load {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
using nlohmann::json;

// The fast path for the one message that arrives 60 times a second: the body is
// `{"seq":N,"code":..,"delta":{"players":{"3":{...flat...},..},..},..,"type":"state"}`
// (nlohmann sorts keys). Returns the seat's last_input_seq when the delta names it, else 0.
std::uint64_t delta_last_input_seq(std::string_view msg, std::string_view seat_key) {
  static constexpr std::string_view kPlayers = "\"delta\":{\"players\":{";
  static constexpr std::string_view kSeq = "\"last_input_seq\":";
  auto p = msg.find(kPlayers);
  if (p == std::string_view::npos) return 0;
  p += kPlayers.size();
  while (p < msg.size() && msg[p] == '"') {
    const auto close = msg.find('}', p);  // a seat's object holds only numbers and bools
    if (close == std::string_view::npos) return 0;
    if (msg.substr(p, seat_key.size()) == seat_key) {
      const auto q = msg.find(kSeq, p);
      if (q == std::string_view::npos || q > close) return 0;
      std::uint64_t v = 0;
      for (auto i = q + kSeq.size(); i < close && msg[i] >= '0' && msg[i] <= '9'; ++i) v = v * 10 + (msg[i] - '0');
      return v;
    }
    p = close + 1;
    if (p < msg.size() && msg[p] == ',') ++p;
  }
  return 0;
}

bool is_state(std::string_view msg) {
  static constexpr std::string_view kTail = ",\"type\":\"state\"}";
  return msg.ends_with(kTail) || msg.find("\"type\":\"state\"") != std::string_view::npos;
}

namespace {

constexpr int kRoomsInSetup = 8;       // rooms handshaking at once, per worker
constexpr int kMaxCatchUpInputs = 16;  // the server refuses more per seat per tick

std::size_t ws_header_bytes(std::size_t payload) { return payload < 126 ? 2 : payload < 65536 ? 4 : 10; }

std::mt19937_64 seeded(int room, int slot) {
  std::seed_seq seq{room, slot, static_cast<int>(std::random_device{}())};
  return std::mt19937_64(seq);
}
}  // namespace

// One player: the input schedule, acks and counters. Subclasses own the transport.
class Client : public std::enable_shared_from_this<Client> {
 public:
  Client(Worker& w, int room, int slot);
  virtual ~Client() = default;
  virtual void start() = 0;
  virtual void close() = 0;
  void finish(Stats& s, double duration_s);

 protected:
  // Sends input `seq` (a move to `x`, `y` in field units); returns the bytes sent.
  virtual std::size_t send_input(std::uint64_t seq, int x_tenths, int y_tenths) = 0;
  void begin_inputs();  // the game is running: start the schedule
  void on_ack(std::uint64_t seq, Clock::time_point now);
  void on_message(std::size_t bytes, std::size_t wire_bytes, bool state, Clock::time_point now);
  void on_disconnect();

  Worker& w_;
  int room_, slot_;
  net::steady_timer timer_;
  bool started_ = false, closed_ = false;
  std::size_t state_in_window_ = 0;
  Stats* stats_;

 private:
  void schedule_next();
  void on_timer();

  Clock::time_point t0_{};
  Clock::duration period_{};
  std::uint64_t next_seq_ = 1, acked_ = 0;
  std::deque<std::pair<std::uint64_t, Clock::time_point>> pending_;  // seq, scheduled time
  std::mt19937_64 rng_;
};

// ---- Client: schedule and acks --------------------------------------------------------

Client::Client(Worker& w, int room, int slot)
    : w_(w), room_(room), slot_(slot), timer_(w.ioc), stats_(&w.stats), rng_(seeded(room, slot)) {}

void Client::begin_inputs() {
  if (started_) return;
  started_ = true;
  w_.client_started(room_);
  period_ = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / w_.opts.input_hz));
  // A random phase, so clients of one room do not all send in the same instant.
  t0_ = Clock::now() + Clock::duration(std::uniform_int_distribution<Clock::rep>(0, period_.count())(rng_));
  schedule_next();
}

void Client::schedule_next() {
  timer_.expires_at(t0_ + period_ * static_cast<Clock::rep>(next_seq_ - 1));
  timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (!ec && !self->closed_) self->on_timer();
  });
}

void Client::on_timer() {
  // Every input whose scheduled time has passed goes now, each keeping its scheduled time:
  // a late generator shows up as latency instead of as fewer samples.
  const auto now = Clock::now();
  for (int n = 0; n < kMaxCatchUpInputs; ++n) {
    const auto due = t0_ + period_ * static_cast<Clock::rep>(next_seq_ - 1);
    if (due > now) break;
    pending_.emplace_back(next_seq_, due);
    std::uniform_int_distribution<int> coord(0, 9999);
    const std::size_t bytes = send_input(next_seq_++, coord(rng_), coord(rng_));
    if (w_.window.contains(due)) {
      ++stats_->inputs;
      stats_->input_bytes += bytes;
    }
  }
  if (next_seq_ > 1 && t0_ + period_ * static_cast<Clock::rep>(next_seq_ - 1) <= now) {
    // More than kMaxCatchUpInputs behind: skip ahead (counted as unacked, never silently).
    const auto behind = static_cast<std::uint64_t>((now - t0_) / period_) + 1 - (next_seq_ - 1);
    for (std::uint64_t i = 0; i < behind; ++i)
      if (w_.window.contains(t0_ + period_ * static_cast<Clock::rep>(next_seq_ - 1 + i))) ++stats_->unacked;
    next_seq_ += behind;
  }
  schedule_next();
}

void Client::on_ack(std::uint64_t seq, Clock::time_point now) {
  if (seq <= acked_) return;
  acked_ = seq;
  while (!pending_.empty() && pending_.front().first <= seq) {
    const auto due = pending_.front().second;
    if (w_.window.contains(due))
      stats_->latency_us.push_back(static_cast<std::uint32_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(now - due).count()));
    pending_.pop_front();
  }
}

void Client::on_message(std::size_t bytes, std::size_t wire_bytes, bool state, Clock::time_point now) {
  if (!w_.window.contains(now)) return;
  ++stats_->messages;
  stats_->bytes += bytes;
  if (!state) return;
  ++state_in_window_;
  ++stats_->state_messages;
  stats_->state_bytes += bytes;
  stats_->state_wire_bytes += wire_bytes;
}

void Client::on_disconnect() {
  if (closed_) return;
  closed_ = true;
  timer_.cancel();
  if (!started_) w_.client_failed(room_);
  else ++stats_->disconnects;
}

void Client::finish(Stats& s, double duration_s) {
  for (const auto& [seq, due] : pending_)
    if (w_.window.contains(due)) ++s.unacked;
  s.state_rate.push_back(static_cast<double>(state_in_window_) / duration_s);
}

namespace {

std::string input_json(std::uint64_t seq, int x_tenths, int y_tenths) {
  char buf[160];
  const int n = std::snprintf(buf, sizeof buf,
                              R"({"type":"input","input_seq":%llu,"data":{"action":"move","x":%d.%d,"y":%d.%d}})",
                              static_cast<unsigned long long>(seq), x_tenths / 10, x_tenths % 10, y_tenths / 10,
                              y_tenths % 10);
  return std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace

// ---- WebSocket client (mtown) ---------------------------------------------------------

class WsClient final : public Client {
 public:
  using Client::Client;
  void start() override {
    ws_.next_layer().async_connect(w_.endpoint, [self = shared()](beast::error_code ec) {
      if (ec) return self->on_disconnect();
      self->ws_.next_layer().set_option(tcp::no_delay(true), ec);
      self->ws_.set_option(websocket::stream_base::decorator([](websocket::request_type& r) {
        r.set(beast::http::field::sec_websocket_protocol, "mtown.v1.json");
      }));
      self->ws_.async_handshake(self->w_.opts.host, self->w_.opts.path, [self](beast::error_code ec2) {
        if (ec2) return self->on_disconnect();
        if (self->slot_ == 0)
          self->send(R"({"type":"create_room","game":"arena","name":"load0","max_players":8,"public":false})");
        else if (!self->w_.code_of(self->room_).empty())
          self->join(self->w_.code_of(self->room_));
        self->do_read();
      });
    });
  }
  void join(const std::string& code) {
    if (slot_ == 0 || joined_ || !ws_.is_open()) return;  // the creator is in already
    joined_ = true;
    send(R"({"type":"join_room","code":")" + code + R"(","name":"load)" + std::to_string(slot_) + "\"}");
  }
  void close() override {
    beast::error_code ignored;
    ws_.next_layer().close(ignored);
  }

 private:
  std::shared_ptr<WsClient> shared() { return std::static_pointer_cast<WsClient>(shared_from_this()); }
  std::size_t send_input(std::uint64_t seq, int x_tenths, int y_tenths) override {
    auto text = input_json(seq, x_tenths, y_tenths);
    const std::size_t bytes = text.size();
    send(std::move(text));
    return bytes + ws_header_bytes(bytes) + 4;  // + the client's masking key
  }
  void send(std::string text) {
    out_.push_back(std::move(text));
    if (!writing_) do_write();
  }
  void do_write() {
    writing_ = true;
    ws_.async_write(net::buffer(out_.front()), [self = shared()](beast::error_code ec, std::size_t) {
      self->writing_ = false;
      self->out_.pop_front();
      if (ec) return self->on_disconnect();
      if (!self->out_.empty()) self->do_write();
    });
  }
  void do_read() {
    ws_.async_read(buf_, [self = shared()](beast::error_code ec, std::size_t n) {
      if (ec) return self->on_disconnect();
      self->on_frame(n);
      self->buf_.consume(self->buf_.size());
      self->do_read();
    });
  }
  void on_frame(std::size_t n) {
    const auto now = Clock::now();
    const std::string_view msg(static_cast<const char*>(buf_.cdata().data()), n);
    const bool state = is_state(msg);
    on_message(n, n + ws_header_bytes(n), state, now);
    if (state && seat_key_.size()) {
      const auto seq = delta_last_input_seq(msg, seat_key_);
      if (w_.opts.verify) verify(msg, seq);
      if (seq) on_ack(seq, now);
      return;
    }
    if (!state) on_control(json::parse(msg, nullptr, false));
  }
  void on_control(const json& m) {
    if (!m.is_object()) return;
    const auto type = m.value("type", "");
    if (type == "welcome") {
      player_id_ = m.value("player_id", "");
    } else if (type == "room_joined" && slot_ == 0) {
      w_.room_code(room_, m["room"].value("code", ""));
    } else if (type == "game_started") {
      const auto& seats = m["seats"];
      for (std::size_t i = 0; i < seats.size(); ++i)
        if (seats[i].value("player_id", "") == player_id_) seat_key_ = "\"" + std::to_string(i) + "\":{";
      if (!seat_key_.empty()) begin_inputs();
    } else if (type == "error") {
      if (++stats_->errors <= 3) std::cerr << "arena_load: server error: " << m.dump() << "\n";
    }
  }
  void verify(std::string_view msg, std::uint64_t fast) {
    const auto m = json::parse(msg);
    const auto seat = seat_key_.substr(1, seat_key_.size() - 4);
    const auto& players = m["delta"]["players"];
    const std::uint64_t slow = players.contains(seat) ? players[seat].value("last_input_seq", std::uint64_t{0}) : 0;
    if (slow != fast) std::cerr << "arena_load: scanner mismatch " << fast << " vs " << slow << ": " << msg << "\n";
  }

  websocket::stream<tcp::socket> ws_{w_.ioc};
  beast::flat_buffer buf_;
  std::deque<std::string> out_;
  bool writing_ = false, joined_ = false;
  std::string player_id_, seat_key_;
};

// ---- Raw client (raw_floor) -----------------------------------------------------------

class RawClient final : public Client {
 public:
  using Client::Client;
  void start() override {
    sock_.async_connect(w_.endpoint, [self = shared()](beast::error_code ec) {
      if (ec) return self->on_disconnect();
      self->sock_.set_option(tcp::no_delay(true), ec);  // as in WebSocket mode
      self->begin_inputs();
      self->do_read();
    });
  }
  void close() override {
    beast::error_code ignored;
    sock_.close(ignored);
  }

 private:
  std::shared_ptr<RawClient> shared() { return std::static_pointer_cast<RawClient>(shared_from_this()); }
  // As many bytes as the WebSocket input frame: a 12-byte header carrying the seq, padded.
  std::size_t send_input(std::uint64_t seq, int x_tenths, int y_tenths) override {
    const std::size_t json_bytes = input_json(seq, x_tenths, y_tenths).size();
    const std::size_t size =
        std::max(kRawHeaderBytes, w_.opts.raw_input_bytes ? w_.opts.raw_input_bytes : json_bytes + 6);
    std::string frame(size, '\0');
    const auto len = static_cast<std::uint32_t>(size);
    std::memcpy(frame.data(), &len, 4);
    std::memcpy(frame.data() + 4, &seq, 8);
    out_.push_back(std::move(frame));
    if (!writing_) do_write();
    return size;
  }
  void do_write() {
    writing_ = true;
    net::async_write(sock_, net::buffer(out_.front()), [self = shared()](beast::error_code ec, std::size_t) {
      self->writing_ = false;
      self->out_.pop_front();
      if (ec) return self->on_disconnect();
      if (!self->out_.empty()) self->do_write();
    });
  }
  void do_read() {
    sock_.async_read_some(net::buffer(buf_.data() + have_, buf_.size() - have_),
                          [self = shared()](beast::error_code ec, std::size_t n) {
                            if (ec) return self->on_disconnect();
                            self->have_ += n;
                            self->parse();
                            self->do_read();
                          });
  }
  void parse() {
    const auto now = Clock::now();
    std::size_t at = 0;
    while (have_ - at >= kRawHeaderBytes) {
      std::uint32_t len = 0;
      std::uint64_t seq = 0;
      std::memcpy(&len, buf_.data() + at, 4);
      if (len < kRawHeaderBytes || len > buf_.size()) return on_disconnect();
      if (have_ - at < len) break;
      std::memcpy(&seq, buf_.data() + at + 4, 8);
      on_message(len, len, true, now);
      if (seq) on_ack(seq, now);
      at += len;
    }
    std::memmove(buf_.data(), buf_.data() + at, have_ - at);
    have_ -= at;
  }

  tcp::socket sock_{w_.ioc};
  std::vector<char> buf_ = std::vector<char>(64 * 1024);
  std::size_t have_ = 0;
  std::deque<std::string> out_;
  bool writing_ = false;
};

// ---- Worker: rooms, a few at a time ---------------------------------------------------

void Worker::begin() {
  for (int i = 0; i < kRoomsInSetup && next_room_ < static_cast<int>(rooms_.size()); ++i) start_room(next_room_++);
}

void Worker::start_room(int room) {
  auto& r = rooms_[room];
  for (int slot = 0; slot < kRoomSize; ++slot) {
    std::shared_ptr<Client> c;
    if (opts.raw) c = std::make_shared<RawClient>(*this, room, slot);
    else c = std::make_shared<WsClient>(*this, room, slot);
    r.members.push_back(c);
    c->start();
  }
}

void Worker::room_code(int room, const std::string& code) {
  rooms_[room].code = code;
  for (auto& c : rooms_[room].members) static_cast<WsClient&>(*c).join(code);
}

void Worker::client_started(int room) {
  started_.fetch_add(1);
  if (++rooms_[room].started + rooms_[room].failed == kRoomSize) room_settled(room);
}

void Worker::client_failed(int room) {
  failed_.fetch_add(1);
  if (rooms_[room].started + ++rooms_[room].failed == kRoomSize) room_settled(room);
}

void Worker::room_settled(int) {
  if (next_room_ < static_cast<int>(rooms_.size())) start_room(next_room_++);
}

Stats Worker::collect(double duration_s) {
  for (auto& r : rooms_)
    for (auto& c : r.members) c->finish(stats, duration_s);
  return std::move(stats);
}

void Worker::close_all() {
  for (auto& r : rooms_)
    for (auto& c : r.members) c->close();
}

}  // namespace arena_load
