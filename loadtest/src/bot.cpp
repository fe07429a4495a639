#include "bot.hpp"

#include <netinet/in.h>

#include "mtown/loadtest/wire.hpp"
#include "worker.hpp"

namespace mtown::loadtest {

namespace beast = boost::beast;
namespace websocket = beast::websocket;

namespace {
std::mt19937_64 seeded(std::uint64_t seed, int index) {
  std::seed_seq seq{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                    static_cast<std::uint32_t>(index)};
  return std::mt19937_64(seq);
}

std::size_t ws_header_bytes(std::size_t payload, bool masked) {
  return (payload < 126 ? 2 : payload < 65536 ? 4 : 10) + (masked ? 4 : 0);
}
}  // namespace

Bot::Bot(Worker& w, int index, std::shared_ptr<RoomGroup> group, int slot)
    : w_(w),
      index_(index),
      slot_(slot),
      group_(std::move(group)),
      rng_(seeded(w.opts.seed, index)),
      timer_(w.ioc) {
  ws_.emplace(w.ioc);
}

const Options& Bot::opts() const { return w_.opts; }
Stats& Bot::stats() { return w_.stats; }
Interval& Bot::interval() { return w_.interval; }
bool Bot::in_window(Clock::time_point t) const { return w_.window.contains(t); }

void Bot::start() { connect(); }

void Bot::connect() {
  ++stats().connect_attempts;
  auto& sock = ws_->next_layer();
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
  ws_->next_layer().set_option(tcp::no_delay(true), ec);
  ws_->set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
  const char* proto = msgpack() ? "mtown.v1.msgpack" : "mtown.v1.json";
  ws_->set_option(websocket::stream_base::decorator(
      [proto](websocket::request_type& r) { r.set(beast::http::field::sec_websocket_protocol, proto); }));
  ws_->binary(msgpack());
  auto target = opts().path;
  if (resuming_)
    target += (target.find('?') == std::string::npos ? "?resume=" : "&resume=") + resume_token_ +
              "&last_seq=" + std::to_string(last_seq_);
  ws_->async_handshake(w_.host_header, target,
                      [self = shared_from_this()](boost::system::error_code e) { self->on_handshake(e); });
}

void Bot::on_handshake(boost::system::error_code ec) {
  if (ec) return on_failure("handshake", ec);
  open_ = true;
  ++w_.connected;
  do_read();
  if (!resuming_) on_open();
}

void Bot::on_failure(const char* stage, boost::system::error_code ec) {
  if (dropped_) return reconnect_when_idle();  // a handler of the connection we dropped
  if (closing_) return;
  closing_ = true;
  if (resuming_) {  // the resume's own connection failed: the bot is done
    if (open_) --w_.connected;
    open_ = false;
    return resume_failed(std::string(stage) + ": " + ec.message());
  }
  if (!open_) {
    ++stats().connect_failures;
    ++interval().errors;
    if (stats().first_connect_error.empty())
      stats().first_connect_error = std::string(stage) + " to " + w_.endpoint.address().to_string() + ":" +
                                    std::to_string(w_.endpoint.port()) + ": " + ec.message();
    w_.bot_settled(*this);
    return;
  }
  open_ = false;
  --w_.connected;
  ++stats().disconnects;
  ++interval().errors;
  stats().error_codes[std::string("disconnect: ") + ec.message()]++;
  if (!ready_) w_.bot_settled(*this);
}

bool Bot::drop_and_resume() {
  if (!open_ || closing_ || resuming_ || resume_token_.empty()) return false;
  dropped_ = resuming_ = true;
  open_ = false;
  --w_.connected;
  dropped_at_ = Clock::now();
  ++stats().drops;
  auto& sock = ws_->next_layer();
  boost::system::error_code ignored;
  sock.set_option(net::socket_base::linger(true, 0), ignored);  // close() then sends a reset
  sock.close(ignored);
  reconnect_when_idle();
  return true;
}

void Bot::reconnect_when_idle() {
  if (reading_ || writing_) return;  // the dropped stream's handlers have yet to run
  dropped_ = false;
  if (closing_) return;
  out_.clear();  // what the dropped connection had not written is lost, as in a real drop
  buffer_.clear();
  ws_.emplace(w_.ioc);
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
  ws_->next_layer().shutdown(tcp::socket::shutdown_both, ignored);
  ws_->next_layer().close(ignored);
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
  stats().wire_bytes_out += data.size() + ws_header_bytes(data.size(), true);
  ++interval().msgs_out;
  interval().bytes_out += data.size();
  out_.push_back(std::move(data));
  if (!writing_) do_write();
}

void Bot::do_write() {
  writing_ = true;
  ws_->async_write(net::buffer(out_.front()), [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
    self->writing_ = false;
    self->out_.pop_front();
    if (self->dropped_) return self->reconnect_when_idle();
    if (ec) return self->on_failure("write", ec);
    if (!self->out_.empty() && !self->closing_) self->do_write();
  });
}

void Bot::do_read() {
  reading_ = true;
  ws_->async_read(buffer_, [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
    self->on_read(ec, n);
  });
}

void Bot::on_read(boost::system::error_code ec, std::size_t n) {
  reading_ = false;
  if (ec) return on_failure("read", ec);
  const auto now = Clock::now();
  const std::string_view msg(static_cast<const char*>(buffer_.cdata().data()), n);
  ++stats().msgs_in;
  stats().bytes_in += n;
  stats().wire_bytes_in += n + ws_header_bytes(n, false);
  ++interval().msgs_in;
  interval().bytes_in += n;
  const auto seq = msgpack() ? msgpack_leading_seq(msg) : json_leading_seq(msg);
  if (!seq) protocol_error("message without a leading seq");
  if (ws_->got_text() == msgpack()) protocol_error("wrong frame type");
  if (on_fast(msg, now)) {
    if (seq) check_seq(*seq, "");
  } else {
    json doc = msgpack() ? json::from_msgpack(msg, true, false) : json::parse(msg, nullptr, false);
    const bool ok = !doc.is_discarded() && doc.is_object();
    const auto type = ok ? doc.value("type", "") : "";
    if (seq) check_seq(*seq, type == "resumed" && doc.value("snapshot", false) ? "snapshot" : type);
    if (!ok) protocol_error("undecodable message");
    else {
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
  }
  buffer_.consume(buffer_.size());
  if (!closing_) do_read();
}

}  // namespace mtown::loadtest
