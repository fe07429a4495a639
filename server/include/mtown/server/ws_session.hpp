// One WebSocket connection: reads and decodes client messages, talks to its room, and
// writes its session's messages one at a time. Everything runs on the connection's strand.
// The player (identity, seq, message log, seat) is the PlayerSession, which outlives the
// connection: a connection opened with ?resume=TOKEN&last_seq=N takes an existing one over.
#pragma once
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "mtown/core/ws_frame.hpp"
#include "mtown/server/client_gate.hpp"
#include "mtown/server/outbound_queue.hpp"
#include "mtown/server/player_session.hpp"
#include "mtown/server/room.hpp"
#include "mtown/server/send_batch.hpp"
#include "mtown/server/server_context.hpp"
#include "mtown/server/stream.hpp"

namespace mtown::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;

class WsSession : public SessionConnection, public SendBatch::Target, public std::enable_shared_from_this<WsSession> {
 public:
  // `subprotocol` is echoed in the handshake; empty when the client offered none.
  // `admission` (client_gate.hpp): the client's address, token claims and per-IP slot.
  WsSession(Stream&& stream, ServerContext& ctx, std::string subprotocol, Admission admission = {});
  ~WsSession() override;

  void run(http::request<http::string_body> request);
  void wake() override;
  void superseded() override;
  bool takes_inline() const override;
  void take_one(const core::SharedMessage& message, std::uint64_t seq) override;
  void batch_sent(std::size_t sent, beast::error_code ec) override;  // send_one's frame, from a SendBatch
  // Sends what is queued, then closes with 1001.
  void shutdown();

 private:
  void on_accept(beast::error_code ec);
  void start_session(nlohmann::json resume_refused);  // a new session: welcome
  void resume_session();                              // ?resume=TOKEN&last_seq=N
  void pump();  // moves the session's new messages into the send queue
  void arm_heartbeat();
  void on_heartbeat();
  void do_read();
  void on_read(beast::error_code ec, std::size_t bytes);
  void handle_frame(std::string_view data);  // one complete message in the connection's encoding
  bool fast_input(std::string_view text);  // true when it took the frame
  void handle(core::ClientMessage& msg);  // may move parts out of msg
  void create_room(const core::ClientMessage& msg);
  void join_room(const core::ClientMessage& msg);
  void list_rooms(const core::ClientMessage& msg);
  void game_request(core::ClientMessage& msg);
  void authenticate(const core::ClientMessage& msg);
  void answer(ClientGate::Refusal refusal);  // sends the reply, then closes if it says so
  void send_error(core::ErrorCode code, std::string_view message, const nlohmann::json& rid,
                  std::string_view field = {});
  void enqueue(const core::SharedMessage& message);  // a reply: logged by the session, then sent
  void enqueue_numbered(const core::SharedMessage& message, std::uint64_t seq);
  bool can_write_now();  // a frame may go out with send_now (no background write on the socket)
  void write_if_idle();  // starts writing the queue unless a write is under way
  void do_write();
  void write_now();     // frames straight to the socket (Stream::send_now)
  void send_one(const core::SharedMessage& message, std::uint64_t seq);  // one frame, not queued
  void send_rest_of(const core::FrameHeader& header, const OutboundQueue::Entry& entry, std::size_t sent);
  void write_queued();  // the front frame through Beast, which waits for the socket
  void on_write(beast::error_code ec);
  void after_write(beast::error_code ec);  // a background write (Beast's or send_rest) is over
  void write_failed(beast::error_code ec);  // logs what is not an ordinary close, then closes
  void pop_sent();
  void begin_close(websocket::close_reason reason, bool flush, std::chrono::milliseconds deadline);
  void drop_unsent();
  void do_close();
  void on_closed();

  websocket::stream<Stream> ws_;
  ServerContext& ctx_;
  std::string subprotocol_;
  beast::flat_buffer buffer_;
  OutboundQueue queue_;
  net::steady_timer close_deadline_;
  // The io_context's executor when the connection runs on it directly (one io thread, no
  // strand); wake() then pumps inline when called on that thread.
  std::optional<net::io_context::executor_type> thread_executor_;
  std::string target_;  // the upgrade request's, for ?resume=
  std::shared_ptr<PlayerSession> session_;
  std::uint64_t taken_seq_ = 0;  // last seq moved from the session's log into queue_
  std::vector<PlayerSession::Logged> taken_;
  net::steady_timer heartbeat_;
  std::chrono::steady_clock::time_point last_heard_;  // any frame from the client, pongs included
  websocket::close_reason close_reason_;
  bool ping_in_flight_ = false;
  bool superseded_ = false;
  bool opened_ = false;
  // What is being written in the background: nothing, the queue's front through Beast, the
  // end of an already dequeued frame (Stream::send_rest), or send_one's frame waiting in
  // this thread's SendBatch (batched_).
  enum class Writing { none, beast, rest, batched } writing_ = Writing::none;
  struct BatchedFrame {
    OutboundQueue::Entry entry;
    core::FrameHeader header;
  };
  std::optional<BatchedFrame> batched_;
  bool close_pending_ = false;  // close once the queue is flushed
  bool close_sent_ = false;
  bool closed_ = false;
  ClientGate gate_;  // auth state and rate limits; the token's subject at upgrade
};

}  // namespace mtown::server
