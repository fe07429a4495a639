#include "bot.hpp"

#include <sys/socket.h>

#include <cerrno>

#include <netinet/in.h>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/error.hpp>
#include <cstring>
#include <utility>

#include "mtown/core/ws_frame.hpp"
#include "mtown/loadtest/wire.hpp"
#include "mtown/loadtest/ws_handshake.hpp"
#include "worker.hpp"

namespace mtown::loadtest {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ws_opcode = core::ws_opcode;

struct Bot::Handshake {
  ClientHandshake asked;
  http::response_parser<http::string_body> parser;
  beast::flat_buffer buffer;
  bool timed_out = false;
};

namespace {
std::mt19937_64 seeded(std::uint64_t seed, int index) {
  std::seed_seq seq{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                    static_cast<std::uint32_t>(index)};
  return std::mt19937_64(seq);
}

constexpr std::size_t kReadChunk = 4096;              // per bot: 10,000 idle bots hold 40 MiB
// Bytes the ring may hold for a bot that wants no read (its connection failed): past this
// the ring lets the socket go.
constexpr std::size_t kMaxUnread = 1 << 20;
constexpr std::size_t kMaxMessage = 16 * 1024 * 1024;  // Beast's default read limit
constexpr auto kHandshakeTimeout = std::chrono::seconds(30);  // Beast's suggested client timeout
}  // namespace

Bot::Bot(Worker& w, int index, std::shared_ptr<RoomGroup> group, int slot)
    : w_(w),
      index_(index),
      slot_(slot),
      group_(std::move(group)),
      rng_(seeded(w.opts.seed, index)),
      timer_(w.ioc),
      handshake_timer_(w.ioc),
      mask_state_((0x9E3779B9u ^ (static_cast<std::uint32_t>(index) * 2654435761u)) | 1u) {
  sock_.emplace(w.ioc);
}

Bot::~Bot() = default;

const Options& Bot::opts() const { return w_.opts; }
Stats& Bot::stats() { return w_.stats; }
Interval& Bot::interval() { return w_.interval; }
bool Bot::in_window(Clock::time_point t) const { return w_.window.contains(t); }

void Bot::start() { connect(); }

void Bot::connect() {
  ++stats().connect_attempts;
  auto& sock = *sock_;
  boost::system::error_code ec;
  const auto& ep = w_.endpoint;
  sock.open(ep.protocol(), ec);
  if (!ec && !opts().source_ips.empty()) {
    // Defer the port choice to connect(): ports are then unique per 4-tuple, not per
    // source address, which is what lets several source addresses exceed one's range.
    const int one = 1;
    ::setsockopt(sock.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    const auto& ip = opts().source_ips[static_cast<std::size_t>(index_) % opts().source_ips.size()];
    sock.bind(tcp::endpoint(net::ip::make_address(ip), 0), ec);
  }
  if (ec) return on_failure("connect", ec);
  sock.async_connect(ep, [self = shared_from_this()](boost::system::error_code e) { self->on_connected(e); });
}

void Bot::on_connected(boost::system::error_code ec) {
  if (ec) return on_failure("connect", ec);
  sock_->set_option(tcp::no_delay(true), ec);
  auto target = opts().path;
  if (resuming_)
    target += (target.find('?') == std::string::npos ? "?resume=" : "&resume=") + resume_token_ +
              "&last_seq=" + std::to_string(last_seq_);
  handshake_.reset(new Handshake{ClientHandshake(w_.host_header, target, msgpack() ? "mtown.v1.msgpack" : "mtown.v1.json"),
                                 {}, {}, false});
  handshake_->parser.body_limit(64 * 1024);
  handshake_timer_.expires_after(kHandshakeTimeout);
  handshake_timer_.async_wait([self = shared_from_this(), conn = connection_](boost::system::error_code e) {
    if (e || !self->handshake_ || conn != self->connection_) return;
    self->handshake_->timed_out = true;
    boost::system::error_code ignored;
    self->sock_->close(ignored);  // the pending handshake operation ends with operation_aborted
  });
  http::async_write(*sock_, handshake_->asked.request, [self = shared_from_this()](boost::system::error_code e, std::size_t) {
    if (e) return self->on_handshake(e);
    http::async_read(*self->sock_, self->handshake_->buffer, self->handshake_->parser,
                     [self](boost::system::error_code e2, std::size_t) { self->on_handshake(e2); });
  });
}

void Bot::on_handshake(boost::system::error_code ec) {
  handshake_timer_.cancel();
  auto hs = std::move(handshake_);
  if (hs->timed_out) return on_failure("handshake", beast::error::timeout);
  if (ec) return on_failure("handshake", ec);
  if (const auto wrong = check_upgrade_response(hs->parser.get(), hs->asked); !wrong.empty())
    return on_failure("handshake", wrong);
  // Frames the server sent right behind its 101 (a resume's replay) are already read.
  const auto early = hs->buffer.cdata();
  rbuf_.resize(std::max(kReadChunk, early.size()));
  std::memcpy(rbuf_.data(), early.data(), early.size());
  have_ = early.size();
  open_ = true;
  ++w_.connected;
  if (!resuming_) on_open();
  if (!take_frames()) return;
  ringed_ = w_.ring && w_.ring->watch(sock_->native_handle(), weak_from_this());
  watched_ = !ringed_ && w_.poller.watch(sock_->native_handle(), weak_from_this());
  may_have_bytes_ = true;
  do_read();
}

void Bot::on_failure(const char* stage, const std::string& what) {
  if (dropped_) return reconnect_when_idle();  // a handler of the connection we dropped
  if (closing_) return;
  closing_ = true;
  if (resuming_) {  // the resume's own connection failed: the bot is done
    if (open_) --w_.connected;
    open_ = false;
    return resume_failed(std::string(stage) + ": " + what);
  }
  if (!open_) {
    ++stats().connect_failures;
    ++interval().errors;
    if (stats().first_connect_error.empty())
      stats().first_connect_error = std::string(stage) + " to " + w_.endpoint.address().to_string() + ":" +
                                    std::to_string(w_.endpoint.port()) + ": " + what;
    w_.bot_settled(*this);
    return;
  }
  open_ = false;
  --w_.connected;
  ++stats().disconnects;
  ++interval().errors;
  stats().error_codes[std::string("disconnect: ") + what]++;
  if (!ready_) w_.bot_settled(*this);
}

void Bot::fail_protocol(const std::string& what) {
  protocol_error(what);
  on_failure("read", what);
  stop_watching();
  boost::system::error_code ignored;
  sock_->close(ignored);
}

bool Bot::drop_and_resume() {
  if (!open_ || closing_ || resuming_ || resume_token_.empty()) return false;
  dropped_ = resuming_ = true;
  open_ = false;
  --w_.connected;
  dropped_at_ = Clock::now();
  ++stats().drops;
  boost::system::error_code ignored;
  sock_->set_option(net::socket_base::linger(true, 0), ignored);  // close() then sends a reset
  stop_watching();
  sock_->close(ignored);
  reconnect_when_idle();
  return true;
}

void Bot::reconnect_when_idle() {
  if (reading_ || writing_) return;  // the dropped stream's handlers have yet to run
  dropped_ = false;
  if (closing_) return;
  out_.clear();  // what the dropped connection had not written is lost, as in a real drop
  have_ = unread_ = 0;
  ended_.reset();
  fragments_.clear();
  fragments_opcode_ = -1;
  ++connection_;
  sock_.emplace(w_.ioc);
  connect();
}

void Bot::on_resumed(const json& m, Clock::time_point now) {
  resuming_ = false;
  ++stats().resumes;
  if (m.value("snapshot", false)) ++stats().snapshot_fallbacks;
  stats().replayed += m.value("replayed", std::uint64_t{0});
  stats().resume_us.record(micros(now - dropped_at_));
  if (!sending_ && in_room_) stop_sending();  // the run ended while this bot was away
}

void Bot::resume_failed(const std::string& why) {
  resuming_ = false;
  ++stats().resumes_failed;
  ++stats().error_codes["resume failed: " + why];
  ++interval().errors;
}

void Bot::finish_resume(Stats& s) {
  if (!resuming_) return;
  ++s.resumes_failed;
  ++s.error_codes["resume failed: still pending at the end"];
  s.resume_us.record(micros(Clock::now() - dropped_at_));
}

void Bot::close() {
  if (closing_) return;
  closing_ = true;
  if (open_) --w_.connected;
  open_ = false;
  boost::system::error_code ignored;
  sock_->shutdown(tcp::socket::shutdown_both, ignored);
  stop_watching();
  sock_->close(ignored);
}

std::string Bot::name() const { return "bot" + std::to_string(index_); }

void Bot::create_or_join(const char* game) {
  if (slot_ == 0)
    send({{"type", "create_room"}, {"game", game}, {"name", name()},
          {"max_players", static_cast<int>(group_->size)}, {"public", false}});
  else if (!group_->code.empty())
    room_code_known();
}

void Bot::room_code_known() {
  if (slot_ == 0 || joined_ || !open_) return;
  joined_ = true;
  send({{"type", "join_room"}, {"code", group_->code}, {"name", name()}});
}

void Bot::publish_room_code(const std::string& code) {
  group_->code = code;
  for (auto& weak : group_->members)
    if (auto b = weak.lock()) b->room_code_known();
}

bool Bot::room_full_and_waiting(const json& m) const {
  const auto& room = m["room"];
  return slot_ == 0 && sending_ && room.value("status", "") == "waiting" && room["players"].size() >= group_->size;
}

int Bot::seat_in(const json& m) const {
  for (const auto& s : m["seats"])
    if (s.value("player_id", "") == player_id_) return s.value("seat", -1);
  return -1;
}

void Bot::stop_sending() {
  sending_ = false;
  if (!in_room_ || !open_) return;  // a dropped bot leaves once resumed
  send({{"type", "leave_room"}});
  in_room_ = false;
}

void Bot::mark_ready() {
  if (ready_) return;
  ready_ = true;
  w_.bot_settled(*this);
}

// Every server message carries the session's seq, 1, 2, 3, ... with no gaps, across
// resumes too. Two jumps are by design: a refused resume's `welcome` starts a new session
// at 1, and `resumed` with snapshot: true skips past a gap too old to replay.
void Bot::check_seq(std::uint64_t seq, const std::string& type) {
  if ((type == "welcome" && resuming_) || (type == "snapshot" && seq > last_seq_)) {
    if (type == "snapshot") stats().snapshot_skipped += seq - last_seq_ - 1;
    last_seq_ = seq;
    return;
  }
  if (seq <= last_seq_) {
    ++stats().seq_duplicated;
    protocol_error("seq repeated");
    return;
  }
  if (seq != last_seq_ + 1) {
    stats().seq_missed += seq - last_seq_ - 1;
    protocol_error("seq gap");
  }
  last_seq_ = seq;
}

void Bot::count_error(const std::string& code) {
  ++stats().error_msgs;
  ++stats().error_codes[code];
  ++interval().errors;
}

void Bot::protocol_error(const std::string& what) {
  ++stats().protocol_errors;
  ++stats().error_codes["protocol: " + what];
  ++interval().errors;
}

void Bot::send(const json& msg) {
  if (msgpack()) {
    std::string packed;
    json::to_msgpack(msg, packed);
    send_raw(std::move(packed));
  } else {
    send_raw(msg.dump());
  }
}

void Bot::send_raw(std::string data) {
  if (!open_ || closing_) return;
  ++stats().msgs_out;
  stats().bytes_out += data.size();
  ++interval().msgs_out;
  interval().bytes_out += data.size();
  queue_frame(msgpack() ? ws_opcode::binary : ws_opcode::text, data);
}

void Bot::queue_frame(int opcode, std::string_view payload) {
  mask_state_ ^= mask_state_ << 13, mask_state_ ^= mask_state_ >> 17, mask_state_ ^= mask_state_ << 5;
  const auto h = core::client_frame_header(opcode, payload.size(), mask_state_);
  std::string frame;
  frame.reserve(h.size + payload.size());
  frame.append(reinterpret_cast<const char*>(h.bytes.data()), h.size).append(payload);
  core::mask_payload(reinterpret_cast<unsigned char*>(frame.data()) + h.size, payload.size(), mask_state_);
  stats().wire_bytes_out += frame.size();
  out_.push_back(std::move(frame));
  if (!writing_) do_write();
}

void Bot::do_write() {
  writing_ = true;
  net::async_write(*sock_, net::buffer(out_.front()), [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
    self->writing_ = false;
    self->out_.pop_front();
    if (self->dropped_) return self->reconnect_when_idle();
    if (ec) return self->on_failure("write", ec);
    if (!self->out_.empty() && !self->closing_) self->do_write();
  });
}

void Bot::do_read() {
  reading_ = true;
  if (ringed_ || ended_) {  // what the ring received meanwhile is taken from the queue
    if (unread_ || ended_) net::post(w_.ioc, [self = shared_from_this(), conn = connection_] {
      if (conn == self->connection_ && self->reading_) self->take_received();
    });
    return;
  }
  if (!watched_) {  // neither ring nor poller took the socket: Asio reads it
    sock_->async_read_some(net::buffer(rbuf_.data() + have_, rbuf_.size() - have_),
                           [self = shared_from_this()](boost::system::error_code ec, std::size_t n) { self->on_read(ec, n); });
    return;
  }
  // The last read filled the buffer, or none has been made yet: read again, from the queue
  // (not from inside this call, which a read's handler makes). Otherwise the next edge reads.
  if (may_have_bytes_) net::post(w_.ioc, [self = shared_from_this(), conn = connection_] {
    if (conn == self->connection_) self->try_read();
  });
}

void Bot::on_readable() {
  may_have_bytes_ = true;
  try_read();
}

void Bot::try_read() {
  if (!reading_ || !watched_) return;
  const std::size_t space = rbuf_.size() - have_;
  ssize_t n;
  do n = ::recv(sock_->native_handle(), rbuf_.data() + have_, space, MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    may_have_bytes_ = false;
    return;
  }
  reading_ = false;
  if (n < 0) return on_read(boost::system::error_code(errno, boost::system::system_category()), 0);
  if (n == 0) return on_read(net::error::eof, 0);
  may_have_bytes_ = static_cast<std::size_t>(n) == space;
  on_read({}, static_cast<std::size_t>(n));
}

void Bot::on_bytes(const char* data, std::size_t n) {
  if (rbuf_.size() - have_ - unread_ < n) rbuf_.resize(have_ + unread_ + n);
  std::memcpy(rbuf_.data() + have_ + unread_, data, n);
  unread_ += n;
  if (reading_) return take_received();
  // No read is wanted only once the connection has failed; a bot that stopped reading
  // leaves the rest in the socket, where TCP's window holds the server back.
  if (unread_ >= kMaxUnread) {
    w_.ring->unwatch(sock_->native_handle());
    ringed_ = false;
    unread_ = 0;
    ended_ = boost::system::error_code(net::error::no_buffer_space);
  }
}

void Bot::on_read_end(int error) {
  ringed_ = false;  // the ring has let the socket go
  ended_ = error ? boost::system::error_code(error, boost::system::system_category())
                 : boost::system::error_code(net::error::eof);
  if (reading_) take_received();
}

void Bot::take_received() {
  if (!unread_ && !ended_) return;  // a posted take whose bytes went with the socket
  reading_ = false;
  if (unread_) return on_read({}, std::exchange(unread_, 0));
  on_read(*ended_, 0);
}

void Bot::stop_watching() {
  if (ringed_) {
    ringed_ = false;
    w_.ring->unwatch(sock_->native_handle());
    unread_ = 0;  // as a closed socket's unread bytes
  } else if (watched_) {
    watched_ = false;
    w_.poller.unwatch(sock_->native_handle());
  } else {
    return;
  }
  // As Asio does for a read pending on a closed socket: its handler runs, aborted.
  if (reading_) net::post(w_.ioc, [self = shared_from_this()] {
    self->reading_ = false;
    self->on_read(net::error::operation_aborted, 0);
  });
}

void Bot::on_read(boost::system::error_code ec, std::size_t n) {
  reading_ = false;
  if (dropped_) return reconnect_when_idle();
  if (ec) return on_failure("read", ec);
  have_ += n;
  if (take_frames() && !closing_) do_read();
}

bool Bot::take_frames() {
  const auto now = Clock::now();
  const auto connection = connection_;
  std::size_t at = 0, need = 0;
  while (true) {
    core::FrameInfo f;
    const auto r = core::read_frame_header(rbuf_.data() + at, have_ - at, f);
    if (r == core::FrameRead::need_more) break;
    if (r == core::FrameRead::bad || f.masked || f.payload_bytes > kMaxMessage) {
      fail_protocol(f.payload_bytes > kMaxMessage ? "message over 16 MiB" : "bad frame from the server");
      return false;
    }
    const auto whole = f.header_bytes + static_cast<std::size_t>(f.payload_bytes);
    if (have_ - at < whole) {
      need = whole;
      break;
    }
    stats().wire_bytes_in += whole;
    const std::string_view payload(reinterpret_cast<const char*>(rbuf_.data() + at + f.header_bytes), f.payload_bytes);
    at += whole;
    if (!on_frame(f.opcode, f.fin, payload, now) || closing_ || connection != connection_) return false;
  }
  have_ -= at;
  std::memmove(rbuf_.data(), rbuf_.data() + at, have_);
  if (need > rbuf_.size()) {
    rbuf_.resize(need);  // a frame bigger than the buffer: room for all of it
  } else if (have_ == 0 && rbuf_.size() > 16 * kReadChunk) {
    rbuf_.assign(kReadChunk, 0);  // give back what one big message needed
    rbuf_.shrink_to_fit();
  }
  return true;
}

bool Bot::on_frame(int opcode, bool fin, std::string_view payload, Clock::time_point now) {
  switch (opcode) {
    case ws_opcode::ping:
      queue_frame(ws_opcode::pong, payload);
      return true;
    case ws_opcode::pong:
      return true;
    case ws_opcode::close:  // echo its status code, as RFC 6455 5.5.1 asks, and stop reading
      queue_frame(ws_opcode::close, payload.substr(0, 2));
      on_failure("read", websocket::error::closed);
      return false;
    case ws_opcode::continuation:
      if (fragments_opcode_ < 0 || fragments_.size() + payload.size() > kMaxMessage) {
        fail_protocol(fragments_opcode_ < 0 ? "continuation frame without a message" : "message over 16 MiB");
        return false;
      }
      fragments_.append(payload);
      if (fin) {
        const auto text = fragments_opcode_ == ws_opcode::text;
        fragments_opcode_ = -1;
        const auto msg = std::move(fragments_);
        fragments_.clear();
        on_message_bytes(msg, text, now);
      }
      return true;
    default:  // text or binary
      if (fragments_opcode_ >= 0) {
        fail_protocol("new message inside a fragmented one");
        return false;
      }
      if (!fin) {
        fragments_opcode_ = opcode;
        fragments_.assign(payload);
        return true;
      }
      on_message_bytes(payload, opcode == ws_opcode::text, now);
      return true;
  }
}

void Bot::on_message_bytes(std::string_view msg, bool text, Clock::time_point now) {
  ++stats().msgs_in;
  stats().bytes_in += msg.size();
  ++interval().msgs_in;
  interval().bytes_in += msg.size();
  const auto seq = msgpack() ? msgpack_leading_seq(msg) : json_leading_seq(msg);
  if (!seq) protocol_error("message without a leading seq");
  if (text == msgpack()) protocol_error("wrong frame type");
  if (on_fast(msg, now)) {
    if (seq) check_seq(*seq, "");
    return;
  }
  json doc = msgpack() ? json::from_msgpack(msg, true, false) : json::parse(msg, nullptr, false);
  const bool ok = !doc.is_discarded() && doc.is_object();
  const auto type = ok ? doc.value("type", "") : "";
  if (seq) check_seq(*seq, type == "resumed" && doc.value("snapshot", false) ? "snapshot" : type);
  if (!ok) return protocol_error("undecodable message");
  if (type == "welcome") {
    player_id_ = doc.value("player_id", "");
    resume_token_ = doc.value("resume_token", "");
    if (w_.welcome_server.empty()) w_.welcome_server = doc.value("server", "");
    if (resuming_) {  // refused: a new session, without the room
      in_room_ = false;
      resume_failed(doc.contains("resume_refused") ? doc["resume_refused"].value("code", "?") : "new session");
    }
  }
  if (type == "resumed") on_resumed(doc, now);
  if (type == "room_joined" && sending_) in_room_ = true;
  on_message(doc, now);
}

}  // namespace mtown::loadtest
