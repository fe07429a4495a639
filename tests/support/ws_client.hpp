// A blocking WebSocket client on Beast for integration tests. Every message it receives
// is checked against the protocol: `seq` must be exactly last+1 and the message must
// validate against schemas/protocol/v1/server/<type>.json. A violation throws.
#pragma once
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace mtown::test {

using json = nlohmann::json;
using namespace std::chrono_literals;

struct HttpResult {
  int status = 0;
  std::string content_type;
  std::string body;
  json body_json() const { return json::parse(body); }
};
HttpResult http_request(int port, const std::string& method, const std::string& target,
                        const std::string& body = {});
inline HttpResult http_get(int port, const std::string& target) { return http_request(port, "GET", target); }
// The value of one series (`name{labels}` exactly as exposed) in Prometheus text; -1 if absent.
double metric_value(const std::string& text, const std::string& series);

// Throws std::runtime_error when a message breaks the protocol's schema.
void check_server_message(const json& msg);

class WsClient {
 public:
  struct Options {
    // "mtown.v1.msgpack" makes send() and recv() use MessagePack binary frames.
    std::string subprotocol = "mtown.v1.json";  // empty: offer none
    std::string target = "/ws";
    bool expect_welcome = true;  // read and check the welcome message on connect
    // Non-empty: resume that session (?resume=TOKEN&last_seq=N). No welcome is awaited, and
    // seq checking continues from last_seq (a `resumed` with snapshot may skip ahead; a
    // `welcome` means the resume was refused and a new session starts at 1).
    std::string resume_token{};
    std::uint64_t last_seq = 0;
    std::vector<std::pair<std::string, std::string>> headers{};  // extra upgrade headers (Authorization, Origin)
  };
  // Options that resume `from`'s session where it stopped reading.
  static Options resume_options(const WsClient& from);
  explicit WsClient(int port) : WsClient(port, Options{}) {}
  WsClient(int port, Options options);
  ~WsClient();

  void send(const json& msg);  // in the connection's encoding
  void send_text(const std::string& text);
  void send_binary(const std::string& data);

  // Next message; throws on timeout or close.
  json recv(std::chrono::milliseconds timeout = 5s);
  // Next message of `type`, failing if any other type arrives first.
  json expect(const std::string& type, std::chrono::milliseconds timeout = 5s);
  // Skips messages until one of `type` arrives.
  json recv_until(const std::string& type, std::chrono::milliseconds timeout = 5s);
  // nullopt when nothing arrives within timeout.
  std::optional<json> try_recv(std::chrono::milliseconds timeout);

  // Reads until the server closes; returns the close code (or -1 when the TCP
  // connection ended without a close frame). Messages read meanwhile are discarded.
  int wait_closed(std::chrono::milliseconds timeout = 5s);
  std::string close_reason() const { return close_reason_; }
  void close();  // normal close handshake
  void drop();   // close the TCP socket without a close frame
  void kill();   // as a killed process: reset the TCP connection (RST), no close frame
  int native_socket();  // the TCP socket's descriptor, e.g. to shrink SO_RCVBUF

  const json& welcome() const { return welcome_; }
  // The session's resume token: from the welcome, or the one this client resumed with.
  const std::string& resume_token() const { return resume_token_; }
  const std::string& player_id() const { return player_id_; }
  std::uint64_t last_seq() const { return last_seq_; }
  const std::string& negotiated_subprotocol() const { return negotiated_; }
  bool msgpack() const { return negotiated_ == "mtown.v1.msgpack"; }

 private:
  struct Impl;  // Beast stays out of this header: test files compile much faster
  enum class ReadResult { message, timeout, closed, failed };
  ReadResult read_one(std::chrono::milliseconds timeout, std::string& out);

  std::unique_ptr<Impl> impl_;
  json welcome_;
  std::string player_id_;
  std::string resume_token_;
  bool resuming_ = false;  // resumed, until the first message shows how
  std::string negotiated_;
  std::string close_reason_;
  int close_code_ = -1;
  std::string error_;
  std::uint64_t last_seq_ = 0;
};

}  // namespace mtown::test
