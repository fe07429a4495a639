#include "mtown/server/ws_session.hpp"

#include <algorithm>
#include <charconv>

#include <boost/asio/post.hpp>

#include "mtown/core/games.hpp"
#include "mtown/core/ids.hpp"
#include "mtown/core/input_frame.hpp"
#include "mtown/core/log.hpp"
#include "mtown/core/room_code.hpp"
#include "mtown/core/text.hpp"
#include "mtown/core/ws_frame.hpp"
#include "mtown/server/resume_gate.hpp"

namespace mtown::server {
namespace {

using core::ClientType;
using core::FrameHeader;
using core::server_frame_header;
using core::ErrorCode;
using core::ServerType;
using core::with_rid;
using nlohmann::json;

constexpr std::size_t kNameMaxChars = 32;
constexpr std::size_t kIdleReadBufferBytes = 4096;  // larger read buffers are released after use
constexpr auto kSlowConsumerCloseDeadline = std::chrono::seconds(2);
constexpr auto kOversizedCloseDeadline = std::chrono::seconds(2);
// A superseded connection is most likely half-open: its close handshake cannot finish.
constexpr auto kSupersededCloseDeadline = std::chrono::milliseconds(500);
constexpr auto kSupersededCloseCode = static_cast<websocket::close_code>(4009);
constexpr auto kRefusalCloseDeadline = std::chrono::seconds(2);

json refusal(std::string_view code, std::string_view message) { return {{"code", code}, {"message", message}}; }

bool is_expected_close(const beast::error_code& ec) {
  return ec == websocket::error::closed || ec == net::error::eof || ec == net::error::operation_aborted ||
         ec == net::error::connection_reset || ec == beast::error::timeout || ec == net::error::broken_pipe;
}

// One frame as sendmsg buffers: header, the connection's seq prefix, the shared body (when
// not empty). Returns how many of out's 3 slots it used.
int frame_iov(const FrameHeader& header, const OutboundQueue::Entry& e, ::iovec* out) {
  int n = 0;
  out[n++] = {const_cast<unsigned char*>(header.bytes.data()), header.size};
  out[n++] = {const_cast<char*>(e.prefix.data()), e.prefix.size()};
  if (!e.tail.empty()) out[n++] = {const_cast<char*>(e.tail.data()), e.tail.size()};
  return n;
}

// Received through the ring and not yet read, past which the connection reads through the
// reactor again (ring_inbox.hpp). The session reads each frame as it comes: only a client
// far ahead of the server (a message of megabytes, a flood) gets there.
std::size_t max_unread_bytes(const core::ServeConfig& config) {
  return std::max<std::size_t>(std::size_t{64} << 10, 2 * (config.max_frame_bytes + 14));
}

std::optional<net::io_context::executor_type> io_context_executor(const net::any_io_executor& ex) {
  if (const auto* io = ex.target<net::io_context::executor_type>()) return *io;
  return std::nullopt;
}

}  // namespace

WsSession::WsSession(Stream&& stream, ServerContext& ctx, std::string subprotocol, Admission admission)
    : ws_(std::move(stream)),
      ctx_(ctx),
      subprotocol_(std::move(subprotocol)),
      queue_(ctx.config.write_queue_max_bytes,
             subprotocol_ == "mtown.v1.msgpack" ? Encoding::msgpack : Encoding::json),
      close_deadline_(ws_.get_executor()),
      thread_executor_(io_context_executor(ws_.get_executor())),
      heartbeat_(ws_.get_executor()),
      gate_(ctx, std::move(admission), ws_.get_executor()) {}

WsSession::~WsSession() { ctx_.open_connections.fetch_sub(1); }

void WsSession::run(http::request<http::string_body> request) {
  target_ = std::string(request.target());
  ws_.set_option(ws_timeouts(ctx_.config));  // liveness is the session heartbeat (arm_heartbeat)
  ws_.control_callback([this](websocket::frame_type, beast::string_view) { last_heard_ = std::chrono::steady_clock::now(); });
  ws_.set_option(websocket::stream_base::decorator([proto = subprotocol_](websocket::response_type& res) {
    res.set(http::field::server, "mtown/" MTOWN_VERSION);
    if (!proto.empty()) res.set(http::field::sec_websocket_protocol, proto);
  }));
  // The frame limit is enforced in on_read, not by Beast: Beast's limit fails the connection
  // and closes the socket with the rest of the message unread, so the peer often gets a
  // reset instead of the 1009 close handshake.
  ws_.read_message_max(0);
  ws_.auto_fragment(false);
  ws_.async_accept(request, beast::bind_front_handler(&WsSession::on_accept, shared_from_this()));
}

void WsSession::on_accept(beast::error_code ec) {
  if (ec) {
    core::log_debug("ws_handshake_failed", {{"error", ec.message()}});
    return;
  }
  opened_ = true;
  ctx_.sessions.add(shared_from_this());
  ctx_.metrics.connections.add(1);
  ctx_.metrics.connections_total.inc();
  last_heard_ = std::chrono::steady_clock::now();
  // With one io thread the bytes come through the thread's io_uring from now on.
  if (ctx_.reads) ws_.next_layer().read_through(ctx_.reads, max_unread_bytes(ctx_.config));
  if (query_param(target_, "resume")) resume_session();
  else start_session(nullptr);
  if (ctx_.shutting_down) return shutdown();
  arm_heartbeat();
  gate_.start([weak = weak_from_this()] {
    if (auto self = weak.lock()) {
      self->ctx_.metrics.auth_closes.inc();
      self->begin_close({static_cast<websocket::close_code>(kCloseAuth), "authentication timeout"}, /*flush=*/true,
                        kRefusalCloseDeadline);
    }
  });
  do_read();
}

void WsSession::start_session(json resume_refused) {
  // With a valid token at the upgrade the player is the token's subject (no message has
  // been read yet, so this is still the upgrade's claim).
  session_ = ctx_.player_sessions.create(gate_.claimed_player());
  session_->attach_first(weak_from_this());
  core::log_debug("ws_connected", {{"session", session_->session_id}, {"player", session_->player_id}});
  const auto& c = ctx_.config;
  json welcome{{"session_id", session_->session_id},
               {"player_id", session_->player_id},
               {"resume_token", session_->resume_token},
               {"server", "mtown " MTOWN_VERSION},
               {"protocol", queue_.encoding() == Encoding::msgpack ? "mtown.v1.msgpack" : "mtown.v1.json"},
               {"limits", {{"max_frame_bytes", c.max_frame_bytes},
                           {"chat_max_chars", c.chat_max_chars},
                           {"name_max_chars", kNameMaxChars}}},
               {"session", {{"resume_buffer_messages", c.resume_buffer_messages},
                            {"resume_buffer_ms", c.resume_buffer_ms},
                            {"seat_grace_s", c.seat_grace_s},
                            {"heartbeat_interval_ms", c.heartbeat_interval_ms},
                            {"heartbeat_timeout_ms", c.heartbeat_timeout_ms}}}};
  if (!resume_refused.is_null()) welcome["resume_refused"] = std::move(resume_refused);
  enqueue(core::encode_message(ServerType::welcome, std::move(welcome)));
}

void WsSession::resume_session() {
  const std::string token(*query_param(target_, "resume"));
  const auto last_seq_text = query_param(target_, "last_seq").value_or("");
  std::uint64_t last_seq = 0;
  const auto [end, err] = std::from_chars(last_seq_text.data(), last_seq_text.data() + last_seq_text.size(), last_seq);
  const auto refuse = [&](std::string_view code, std::string_view why) {
    ctx_.metrics.resumes_refused.inc();
    core::log_debug("resume_refused", {{"code", code}, {"reason", why}});
    start_session(refusal(code, why));
  };
  if (err != std::errc() || end != last_seq_text.data() + last_seq_text.size())
    return refuse("RESUME_FAILED", "last_seq must be the seq of the last message received (0 for none)");
  if (!resume_allowed(ctx_, token)) return refuse("RATE_LIMITED", "too many resume attempts; try again later");
  auto session = ctx_.player_sessions.find(token);
  const auto resumed = [&](const PlayerSession::Resume& r) {
    json fields{{"session_id", session->session_id}, {"player_id", session->player_id},
                {"replayed", r.replayed}, {"snapshot", r.snapshot}};
    if (r.room) fields["code"] = r.room->code();
    return core::encode_message(ServerType::resumed, std::move(fields));
  };
  const auto r = session ? session->resume(weak_from_this(), last_seq, resumed) : std::nullopt;
  if (!r) return refuse("RESUME_FAILED", "no live session has that resume token (it ended, or it was never issued)");
  session_ = std::move(session);
  taken_seq_ = r->cursor;
  (r->snapshot ? ctx_.metrics.resume_snapshots : ctx_.metrics.sessions_resumed).inc();
  core::log_info("session_resumed", {{"session", session_->session_id}, {"player", session_->player_id},
                                     {"replayed", r->replayed}, {"snapshot", r->snapshot}});
  pump();
}

void WsSession::wake() {
  // With one io thread (no strand: Listener) a room's broadcast writes to the socket right
  // away, without a handler posted per message (docs/performance.md, "Ticks on a shared
  // grid; delivery without a post per message").
  if (takes_inline()) return pump();
  net::post(ws_.get_executor(), [self = shared_from_this()] { self->pump(); });
}

bool WsSession::takes_inline() const { return thread_executor_ && thread_executor_->running_in_this_thread(); }

void WsSession::take_one(const core::SharedMessage& message, std::uint64_t seq) {
  taken_seq_ = seq;
  if (closed_ || close_pending_ || !opened_) return;  // as enqueue_numbered
  if (writing_ == Writing::none && queue_.empty() && can_write_now()) return send_one(message, seq);
  enqueue_numbered(message, seq);
  write_if_idle();
}

void WsSession::superseded() {
  net::post(ws_.get_executor(), [self = shared_from_this()] {
    if (self->closed_) return;
    self->superseded_ = true;
    self->ctx_.metrics.superseded_closes.inc();
    self->begin_close({kSupersededCloseCode, "session resumed elsewhere"}, /*flush=*/false, kSupersededCloseDeadline);
  });
}

void WsSession::pump() {
  if (!session_ || closed_ || close_pending_) return;
  taken_.clear();
  if (session_->take(this, taken_seq_, taken_)) {
    for (const auto& m : taken_) {
      if (closed_ || close_pending_) break;
      enqueue_numbered(m.message, m.seq);
    }
  }
  taken_.clear();
  write_if_idle();  // one write for everything taken: several frames go out in one sendmsg
}

void WsSession::arm_heartbeat() {
  using namespace std::chrono;
  const auto now = steady_clock::now();
  const auto interval = milliseconds(ctx_.config.heartbeat_interval_ms);
  const auto timeout_at = last_heard_ + milliseconds(ctx_.config.heartbeat_timeout_ms);
  heartbeat_.expires_at(std::max(now, std::min(now + interval, timeout_at)));
  heartbeat_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (!ec) self->on_heartbeat();
  });
}

void WsSession::on_heartbeat() {
  if (closed_) return;
  const auto silent = std::chrono::steady_clock::now() - last_heard_;
  if (silent >= std::chrono::milliseconds(ctx_.config.heartbeat_timeout_ms)) {
    ctx_.metrics.heartbeat_timeouts.inc();
    core::log_info("heartbeat_timeout", {{"player", session_ ? session_->player_id : ""},
                                         {"silent_ms", std::chrono::duration_cast<std::chrono::milliseconds>(silent).count()}});
    ws_.next_layer().close();  // the pending read fails: on_closed
    return;
  }
  if (!close_pending_ && !ping_in_flight_) {
    ping_in_flight_ = true;
    ws_.async_ping({}, [self = shared_from_this()](beast::error_code) { self->ping_in_flight_ = false; });
  }
  arm_heartbeat();
}

void WsSession::do_read() {
  // Never buffers more than one byte past the limit.
  const std::size_t room = ctx_.config.max_frame_bytes + 1 - buffer_.size();
  ws_.async_read_some(buffer_.prepare(std::min(room, kIdleReadBufferBytes)),
                      beast::bind_front_handler(&WsSession::on_read, shared_from_this()));
}

void WsSession::on_read(beast::error_code ec, std::size_t bytes) {
  if (ec) {
    if (!is_expected_close(ec)) core::log_debug("ws_read_failed", {{"player", session_->player_id}, {"error", ec.message()}});
    return on_closed();
  }
  last_heard_ = std::chrono::steady_clock::now();
  buffer_.commit(bytes);
  if (buffer_.size() > ctx_.config.max_frame_bytes) {
    ctx_.metrics.oversized_closes.inc();
    core::log_info("ws_message_too_big", {{"player", session_->player_id}, {"limit", ctx_.config.max_frame_bytes}});
    buffer_.consume(buffer_.size());
    // The close handshake reads and discards the rest of the message.
    return begin_close({websocket::close_code::too_big, "message too big"}, /*flush=*/false, kOversizedCloseDeadline);
  }
  if (!ws_.is_message_done()) {
    if (!close_pending_) do_read();
    return;
  }
  const bool binary = queue_.encoding() == Encoding::msgpack;
  if (ws_.got_text() == binary) {
    ctx_.metrics.message_in_invalid(buffer_.size());
    send_error(ErrorCode::unsupported_frame,
               binary ? "mtown.v1.msgpack takes binary frames" : "mtown.v1.json takes text frames", nullptr);
  } else {
    const auto data = buffer_.cdata();
    handle_frame(std::string_view(static_cast<const char*>(data.data()), data.size()));
  }
  buffer_.consume(buffer_.size());
  if (buffer_.capacity() > kIdleReadBufferBytes) buffer_.shrink_to_fit();
  if (!close_pending_) do_read();
}

void WsSession::handle_frame(std::string_view text) {
  if (superseded_) return;  // the player speaks through the connection that resumed
  if (auto refusal = gate_.on_frame()) return answer(std::move(*refusal));
  if (queue_.encoding() == Encoding::json && fast_input(text)) return;
  auto result = queue_.encoding() == Encoding::msgpack ? ctx_.decoder.decode_msgpack(text) : ctx_.decoder.decode(text);
  if (auto* bad = std::get_if<core::DecodeError>(&result)) {
    ctx_.metrics.message_in_invalid(text.size());
    return send_error(bad->code, bad->message, bad->rid, bad->field);
  }
  auto& msg = std::get<core::ClientMessage>(result);
  ctx_.metrics.message_in(msg.type, text.size());
  handle(msg);
}

// An arena input as clients write it goes from the frame's text to the room without a
// JSON tree (core/input_frame.hpp, games::input_text_parser). It is taken only when the
// general path would reach the room with it: the message scans, the player is in a room
// whose game parses and accepts the data; anything else returns false, untouched, and
// takes the general path.
bool WsSession::fast_input(std::string_view text) {
  const auto frame = core::scan_input_frame(text);
  if (!frame) return false;
  const auto room = session_->room();
  const auto parse = room ? room->input_text_parser() : nullptr;
  core::ParsedInput parsed;
  if (!parse || !parse(frame->data, parsed)) return false;
  ctx_.metrics.message_in(ClientType::input, text.size());
  if (auto refusal = gate_.admit_input(frame->input_seq, session_->player_id)) {
    answer(std::move(*refusal));
    return true;
  }
  room->input_parsed(session_->player_id, frame->input_seq, parsed, frame->data, session_);
  return true;
}

void WsSession::handle(core::ClientMessage& msg) {
  const auto& body = msg.body;
  if (msg.type == ClientType::auth) return authenticate(msg);
  if (auto refusal = gate_.admit(msg, session_->player_id)) return answer(std::move(*refusal));
  switch (msg.type) {
    case ClientType::create_room: return create_room(msg);
    case ClientType::join_room: return join_room(msg);
    case ClientType::list_rooms: return list_rooms(msg);
    case ClientType::leave_room: {
      const auto room = session_->room();
      if (!room) return send_error(ErrorCode::not_in_room, "you are not in a room", msg.rid);
      room->leave(session_->player_id, session_, msg.rid);
      session_->clear_room(room.get());
      return;
    }
    case ClientType::chat: {
      // The message is checked before the connection's state (protocol.md, order of errors).
      auto text = core::clean_text(body["text"].get<std::string>(), static_cast<std::size_t>(ctx_.config.chat_max_chars));
      if (text.empty()) return send_error(ErrorCode::bad_message, "text is empty once cleaned", msg.rid, "/text");
      const auto room = session_->room();
      if (!room) return send_error(ErrorCode::not_in_room, "join a room to chat", msg.rid);
      room->chat(session_->player_id, std::move(text), session_, msg.rid);
      return;
    }
    case ClientType::ping:
      return enqueue(core::encode_message(ServerType::pong, with_rid({{"server_time_ms", core::epoch_ms()}}, msg.rid)));
    case ClientType::start_game:
    case ClientType::add_ai:
    case ClientType::input:
    case ClientType::restart_game: return game_request(msg);
    case ClientType::auth:
    case ClientType::count_: break;
  }
}

void WsSession::create_room(const core::ClientMessage& msg) {
  const auto& body = msg.body;
  const auto* game = core::find_game(body["game"].get<std::string>());
  if (!game) return send_error(ErrorCode::unknown_game, "this server runs arena and party", msg.rid, "/game");
  auto name = core::clean_text(body["name"].get<std::string>(), kNameMaxChars);
  if (name.empty()) return send_error(ErrorCode::bad_message, "name is empty once cleaned", msg.rid, "/name");
  if (session_->room()) return send_error(ErrorCode::already_in_room, "leave your room before creating another", msg.rid);
  const int max_players = body.value("max_players", game->max_players);
  // The creator's join is queued before the room starts: queued after, it could find the
  // room already closed as empty when rooms.empty_grace_s is 0.
  std::optional<core::AiDifficulty> ai_fill;
  if (body.contains("ai_fill")) ai_fill = core::parse_ai_difficulty(body["ai_fill"].get<std::string>());
  std::optional<core::AiDifficulty> ai_takeover;
  if (body.contains("ai_takeover")) ai_takeover = core::parse_ai_difficulty(body["ai_takeover"].get<std::string>());
  const auto join_first = [&](const std::shared_ptr<Room>& room) {
    session_->set_room(room);
    room->join(session_, session_->player_id, std::move(name), msg.rid);
  };
  auto created = ctx_.rooms.create(*game, max_players, body.value("public", true), join_first, ai_fill, ai_takeover);
  if (!created.room) return send_error(created.error, "the server holds as many rooms as it may", msg.rid);
}

void WsSession::game_request(core::ClientMessage& msg) {
  const auto& body = msg.body;
  const auto room = session_->room();
  if (!room) {
    // A refused input names its input_seq, wherever it is refused (error.json).
    if (msg.type == ClientType::input && body.contains("input_seq"))
      return enqueue(core::encode_error(ErrorCode::not_in_room, "join a room first", msg.rid, {},
                                        body["input_seq"].get<std::uint64_t>()));
    return send_error(ErrorCode::not_in_room, "join a room first", msg.rid);
  }
  switch (msg.type) {
    case ClientType::start_game:
      return room->start_game(session_->player_id, body.value("options", json::object()), session_, msg.rid);
    case ClientType::add_ai:
      return room->add_ai(session_->player_id, *core::parse_ai_difficulty(body.value("difficulty", "medium")), session_,
                          msg.rid);
    case ClientType::input: {
      // The message ends here, so its data moves to the room instead of being copied.
      const auto seq = body.find(std::string_view("input_seq"));  // a view's length is known: no strlen per key
      return room->input(session_->player_id, seq == body.end() ? 0 : seq->get<std::uint64_t>(),
                         std::move(*msg.body.find(std::string_view("data"))), session_, msg.rid);  // required
    }
    case ClientType::restart_game: return room->restart_game(session_->player_id, session_, msg.rid);
    default: return;
  }
}

void WsSession::join_room(const core::ClientMessage& msg) {
  const auto& body = msg.body;
  auto name = core::clean_text(body["name"].get<std::string>(), kNameMaxChars);
  if (name.empty()) return send_error(ErrorCode::bad_message, "name is empty once cleaned", msg.rid, "/name");
  if (session_->room()) return send_error(ErrorCode::already_in_room, "leave your room before joining another", msg.rid);
  const auto code = core::normalize_room_code(body["code"].get<std::string>());
  auto room = code ? ctx_.rooms.find(*code) : nullptr;
  if (!room) {
    gate_.note_join_miss();
    return send_error(ErrorCode::room_not_found, "no open room has that code", msg.rid, "/code");
  }
  session_->set_room(room);
  room->join(session_, session_->player_id, std::move(name), msg.rid);
}

void WsSession::list_rooms(const core::ClientMessage& msg) {
  RoomFilter filter;
  filter.game = msg.body.value("game", "");
  if (msg.body.contains("has_space")) filter.has_space = msg.body["has_space"].get<bool>();
  json rooms = json::array();
  for (const auto& s : ctx_.rooms.list(filter))
    rooms.push_back(summary_json(s));
  enqueue(core::encode_message(ServerType::room_list, with_rid({{"rooms", std::move(rooms)}}, msg.rid)));
}

void WsSession::authenticate(const core::ClientMessage& msg) {
  auto result = gate_.authenticate(msg, session_->player_id, session_->room() != nullptr);
  if (result.player_id) session_->player_id = std::move(*result.player_id);
  answer({std::move(result.reply), std::move(result.close)});
}

void WsSession::answer(ClientGate::Refusal refusal) {
  enqueue(refusal.reply);
  if (refusal.close)
    begin_close({static_cast<websocket::close_code>(refusal.close->code), refusal.close->reason}, /*flush=*/true,
                kRefusalCloseDeadline);
}

void WsSession::send_error(ErrorCode code, std::string_view message, const json& rid, std::string_view field) {
  enqueue(core::encode_error(code, message, rid, field));
}

void WsSession::shutdown() {
  net::post(ws_.get_executor(), [self = shared_from_this()] {
    self->begin_close({websocket::close_code::going_away, "server shutting down"}, /*flush=*/true,
                      std::chrono::milliseconds(self->ctx_.config.shutdown_timeout_ms));
  });
}

void WsSession::enqueue(const core::SharedMessage& message) {
  // Replies made on this strand go through the session's log too: they take the next seq
  // and can be replayed after a resume.
  session_->push(message, /*wake=*/false);
  pump();
}

void WsSession::enqueue_numbered(const core::SharedMessage& message, std::uint64_t seq) {
  // Nothing is queued once a close is decided: a slow consumer's dropped messages must not be
  // followed by newer ones (a seq gap), nor counted as a slow consumer again.
  if (closed_ || close_pending_ || !opened_) return;
  if (!queue_.push(message, seq)) {
    ctx_.metrics.slow_consumer_closes.inc();
    core::log_warn("slow_consumer", {{"player", session_->player_id}, {"queued_bytes", queue_.bytes()}});
    return begin_close({static_cast<websocket::close_code>(4008), "slow consumer"}, /*flush=*/false, kSlowConsumerCloseDeadline);
  }
  const std::size_t bytes = queue_.back().bytes();
  ctx_.metrics.message_out(*message, bytes);
  ctx_.metrics.send_queue_bytes.add(static_cast<double>(bytes));
  ctx_.metrics.send_queue_messages.add(1);
}

bool WsSession::can_write_now() { return ws_.is_open() && ws_.next_layer().can_send_now(); }

void WsSession::write_if_idle() {
  if (writing_ == Writing::none && !queue_.empty() && !closed_) do_write();
}

void WsSession::do_write() {
  if (can_write_now()) return write_now();
  write_queued();
}

void WsSession::write_now() {
  constexpr std::size_t kMaxFrames = 16;  // per sendmsg
  const bool binary = queue_.encoding() == Encoding::msgpack;
  std::array<FrameHeader, kMaxFrames> headers;
  std::array<::iovec, 3 * kMaxFrames> iov;
  while (!queue_.empty()) {
    const std::size_t frames = std::min(queue_.size(), kMaxFrames);
    int n = 0;
    for (std::size_t i = 0; i < frames; ++i) {
      headers[i] = server_frame_header(binary, queue_.at(i).bytes());
      n += frame_iov(headers[i], queue_.at(i), &iov[n]);
    }
    beast::error_code ec;
    std::size_t sent = ws_.next_layer().send_now(iov.data(), n, ec);
    if (ec) return write_failed(ec);
    if (sent == 0) {  // the socket's send buffer is full: Beast waits until it takes more
      ctx_.metrics.send_stalls.inc();
      return write_queued();
    }
    std::size_t done = 0;  // whole frames sent
    for (; done < frames && sent >= headers[done].size + queue_.front().bytes(); ++done) {
      sent -= headers[done].size + queue_.front().bytes();
      pop_sent();
    }
    if (sent > 0) {  // part of the front frame went out; its end must follow before anything else
      send_rest_of(headers[done], queue_.front(), sent);  // copies the rest: the entry may go
      return pop_sent();
    }
  }
  if (close_pending_) do_close();
}

// A caught-up connection's next frame, straight from the session's log to the socket: the
// send queue only sees it if the socket does not take all of it.
void WsSession::send_one(const core::SharedMessage& message, std::uint64_t seq) {
  auto entry = queue_.entry(message, seq);
  const auto header = server_frame_header(queue_.encoding() == Encoding::msgpack, entry.bytes());
  std::array<::iovec, 3> iov;
  // Inline on the only io thread, inside a room's step: the frame joins the thread's batch
  // and its result comes to batch_sent when the step's sends are flushed.
  if (auto* batch = thread_executor_ ? SendBatch::current() : nullptr) {
    batched_.emplace(BatchedFrame{std::move(entry), header});
    writing_ = Writing::batched;
    const int n = frame_iov(batched_->header, batched_->entry, iov.data());
    return batch->add(ws_.next_layer().native_handle(), iov.data(), n, shared_from_this());
  }
  const int n = frame_iov(header, entry, iov.data());
  beast::error_code ec;
  const std::size_t sent = ws_.next_layer().send_now(iov.data(), n, ec);
  if (ec) return write_failed(ec);
  if (sent == 0) {  // the socket's send buffer is full: queued, and Beast waits for the socket
    ctx_.metrics.send_stalls.inc();
    enqueue_numbered(message, seq);
    return write_queued();
  }
  ctx_.metrics.message_out(*message, entry.bytes());
  if (sent < header.size + entry.bytes()) send_rest_of(header, entry, sent);
}

void WsSession::batch_sent(std::size_t sent, beast::error_code ec) {
  const BatchedFrame frame = std::move(*batched_);
  batched_.reset();
  writing_ = Writing::none;
  if (closed_) return;
  if (ec) return write_failed(ec);
  ctx_.metrics.message_out(*frame.entry.message, frame.entry.bytes());
  // A frame that did not all go out (sent 0: the send buffer was full) keeps its place in
  // front of what queued meanwhile: its rest is written first, in the background.
  if (sent < frame.header.size + frame.entry.bytes()) return send_rest_of(frame.header, frame.entry, sent);
  after_write({});
}

void WsSession::send_rest_of(const FrameHeader& header, const OutboundQueue::Entry& entry, std::size_t sent) {
  ctx_.metrics.send_stalls.inc();
  std::string rest;
  rest.reserve(header.size + entry.bytes());
  rest.append(reinterpret_cast<const char*>(header.bytes.data()), header.size)
      .append(entry.prefix)
      .append(entry.tail)
      .erase(0, sent);
  writing_ = Writing::rest;
  ws_.next_layer().send_rest(std::move(rest), [self = shared_from_this()](beast::error_code e) { self->after_write(e); });
}

void WsSession::write_queued() {
  const auto& entry = queue_.front();
  const std::array<net::const_buffer, 2> buffers{net::buffer(entry.prefix), net::buffer(entry.tail.data(), entry.tail.size())};
  writing_ = Writing::beast;
  ws_.binary(queue_.encoding() == Encoding::msgpack);
  ws_.async_write(buffers, [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
}

void WsSession::write_failed(beast::error_code ec) {
  if (!is_expected_close(ec)) core::log_debug("ws_write_failed", {{"player", session_->player_id}, {"error", ec.message()}});
  on_closed();
}

void WsSession::pop_sent() {
  ctx_.metrics.send_queue_bytes.add(-static_cast<double>(queue_.front().bytes()));
  ctx_.metrics.send_queue_messages.add(-1);
  queue_.pop();
}

void WsSession::on_write(beast::error_code ec) {
  if (!queue_.empty()) pop_sent();
  after_write(ec);
}

void WsSession::after_write(beast::error_code ec) {
  writing_ = Writing::none;
  if (ec) return write_failed(ec);
  if (!queue_.empty() && !closed_) return do_write();
  if (close_pending_) do_close();
}

void WsSession::begin_close(websocket::close_reason reason, bool flush, std::chrono::milliseconds deadline) {
  if (closed_ || close_pending_) return;
  close_pending_ = true;
  close_reason_ = reason;
  if (!flush) drop_unsent();
  close_deadline_.expires_after(deadline);
  close_deadline_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec || self->closed_) return;
    self->ws_.next_layer().close();  // the peer would not read: cut it
  });
  if (writing_ == Writing::none && queue_.empty()) do_close();
}

void WsSession::drop_unsent() {
  // The entry being written stays: the pending write still reads its buffers.
  const std::size_t keep = writing_ == Writing::beast ? 1 : 0;
  while (queue_.size() > keep) {
    ctx_.metrics.send_queue_bytes.add(-static_cast<double>(queue_.back().bytes()));
    ctx_.metrics.send_queue_messages.add(-1);
    queue_.pop_back();
  }
}

void WsSession::do_close() {
  if (close_sent_ || closed_) return;
  close_sent_ = true;
  ws_.async_close(close_reason_, [self = shared_from_this()](beast::error_code) { self->on_closed(); });
}

void WsSession::on_closed() {
  if (closed_) return;
  closed_ = true;
  close_deadline_.cancel();
  heartbeat_.cancel();
  gate_.stop();
  // The seat stays for its grace period; a resume within it takes the session back.
  if (session_) session_->detach(this);
  drop_unsent();
  if (opened_) {
    ctx_.sessions.remove(this);
    ctx_.metrics.connections.add(-1);
  }
  ws_.next_layer().close();
  if (session_) core::log_debug("ws_closed", {{"session", session_->session_id}, {"player", session_->player_id}});
}

}  // namespace mtown::server
