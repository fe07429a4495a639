#include "ws_client.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "mtown/core/json_schema.hpp"
#include "test_server.hpp"

namespace mtown::test {
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

const core::JsonSchema* server_schema(const std::string& type) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<core::JsonSchema>> cache;
  std::lock_guard lock(mutex);
  auto& slot = cache[type];
  if (!slot) {
    const auto path = std::filesystem::path(source_dir()) / "schemas/protocol/v1/server" / (type + ".json");
    std::ifstream in(path);
    if (!in) return nullptr;
    slot = std::make_unique<core::JsonSchema>(json::parse(in));
  }
  return slot.get();
}

}  // namespace

struct WsClient::Impl {
  net::io_context ioc;
  websocket::stream<beast::tcp_stream> ws{ioc};
  // One read stays pending across calls: cancelling a Beast read fails the stream, so a
  // timed-out wait leaves the read running and the next call picks up its result.
  bool reading = false;
  bool done = false;
  bool text = true;  // the frame's kind, for the last completed read
  beast::error_code ec;
  beast::flat_buffer buffer;

  // Runs the io_context until `flag` or the timeout; true when `flag` became true.
  bool run_until(const bool& flag, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    ioc.restart();
    while (!flag && std::chrono::steady_clock::now() < deadline) {
      ioc.run_one_until(deadline);
      if (ioc.stopped()) ioc.restart();
    }
    return flag;
  }
};

void check_server_message(const json& msg) {
  if (!msg.is_object() || !msg.contains("type") || !msg["type"].is_string())
    throw std::runtime_error("server message without a type: " + msg.dump());
  const auto* schema = server_schema(msg["type"]);
  if (!schema) throw std::runtime_error("server sent an undocumented type: " + msg.dump());
  if (auto bad = schema->validate(msg))
    throw std::runtime_error("server message breaks its schema at " + bad->pointer + " (" + bad->message + "): " + msg.dump());
}

HttpResult http_request(int port, const std::string& method, const std::string& target, const std::string& body) {
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(std::chrono::seconds(5));
  stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return {static_cast<int>(res.result_int()), std::string(res[http::field::content_type]), res.body()};
}

double metric_value(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  return -1;
}

WsClient::WsClient(int port, Options options) : impl_(std::make_unique<Impl>()) {
  auto* ws_ = &impl_->ws;
  auto& tcp_layer = beast::get_lowest_layer(*ws_);
  tcp_layer.expires_after(std::chrono::seconds(5));
  tcp_layer.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  ws_->set_option(websocket::stream_base::decorator([&](websocket::request_type& req) {
    if (!options.subprotocol.empty()) req.set(http::field::sec_websocket_protocol, options.subprotocol);
    for (const auto& [name, value] : options.headers) req.set(name, value);
  }));
  websocket::response_type res;
  std::string target = options.target;
  if (!options.resume_token.empty()) {
    target += "?resume=" + options.resume_token + "&last_seq=" + std::to_string(options.last_seq);
    resume_token_ = options.resume_token;
    last_seq_ = options.last_seq;
    resuming_ = true;
    options.expect_welcome = false;
  }
  ws_->handshake(res, "127.0.0.1:" + std::to_string(port), target);
  tcp_layer.expires_never();
  negotiated_ = std::string(res[http::field::sec_websocket_protocol]);
  if (options.expect_welcome) {
    welcome_ = expect("welcome");
    player_id_ = welcome_["player_id"];
  }
}

WsClient::Options WsClient::resume_options(const WsClient& from) {
  Options o;
  o.subprotocol = from.negotiated_.empty() ? "mtown.v1.json" : from.negotiated_;
  o.resume_token = from.resume_token_;
  o.last_seq = from.last_seq_;
  return o;
}

WsClient::~WsClient() {
  beast::error_code ignored;
  beast::get_lowest_layer(impl_->ws).socket().close(ignored);
}

int WsClient::native_socket() { return beast::get_lowest_layer(impl_->ws).socket().native_handle(); }

void WsClient::send(const json& msg) {
  if (!msgpack()) return send_text(msg.dump());
  std::string packed;
  json::to_msgpack(msg, packed);
  send_binary(packed);
}

void WsClient::send_text(const std::string& text) {
  impl_->ws.text(true);
  impl_->ws.write(net::buffer(text));
}

void WsClient::send_binary(const std::string& data) {
  impl_->ws.binary(true);
  impl_->ws.write(net::buffer(data));
}

WsClient::ReadResult WsClient::read_one(std::chrono::milliseconds timeout, std::string& out) {
  auto& im = *impl_;
  if (!im.reading) {
    im.reading = true;
    im.done = false;
    im.buffer.clear();
    im.ws.async_read(im.buffer, [&im](beast::error_code e, std::size_t) {
      im.ec = e;
      im.done = true;
      im.text = im.ws.got_text();
    });
  }
  if (!im.run_until(im.done, timeout)) return ReadResult::timeout;
  im.reading = false;
  if (im.ec == websocket::error::closed) {
    close_code_ = im.ws.reason().code;
    close_reason_ = std::string(im.ws.reason().reason.data(), im.ws.reason().reason.size());
    return ReadResult::closed;
  }
  if (im.ec) {
    error_ = im.ec.message();
    return ReadResult::failed;
  }
  out = beast::buffers_to_string(im.buffer.data());
  return ReadResult::message;
}

std::optional<json> WsClient::try_recv(std::chrono::milliseconds timeout) {
  std::string text;
  switch (read_one(timeout, text)) {
    case ReadResult::timeout: return std::nullopt;
    case ReadResult::closed:
      throw std::runtime_error("connection closed by the server with code " + std::to_string(close_code_) + " (" +
                               close_reason_ + ")");
    case ReadResult::failed: throw std::runtime_error("connection ended: " + error_);
    case ReadResult::message: break;
  }
  if (impl_->text == msgpack())
    throw std::runtime_error(std::string("server sent a ") + (impl_->text ? "text" : "binary") + " frame on " + negotiated_);
  auto msg = msgpack() ? json::from_msgpack(text) : json::parse(text);
  check_server_message(msg);
  const auto seq = msg.at("seq").get<std::uint64_t>();
  const auto& type = msg["type"];
  // After a resume the session's seq goes on; only a fresh snapshot skips (the gap it
  // replaces), and only a refused resume starts a new session at 1.
  const bool refused = resuming_ && type == "welcome" && msg.contains("resume_refused");
  const bool skips = type == "resumed" && msg["snapshot"] == true && seq > last_seq_;
  if (seq != last_seq_ + 1 && !refused && !skips)
    throw std::runtime_error("seq jumped from " + std::to_string(last_seq_) + " to " + std::to_string(seq));
  if (type == "resumed" && !resuming_) throw std::runtime_error("resumed on a connection that did not resume");
  if (refused || type == "resumed") resuming_ = false;
  if (type == "welcome") {
    welcome_ = msg;
    player_id_ = msg["player_id"];
    resume_token_ = msg["resume_token"];
  }
  if (type == "resumed") player_id_ = msg["player_id"];
  last_seq_ = seq;
  return msg;
}

json WsClient::recv(std::chrono::milliseconds timeout) {
  auto msg = try_recv(timeout);
  if (!msg) throw std::runtime_error("no message within " + std::to_string(timeout.count()) + " ms");
  return *msg;
}

json WsClient::expect(const std::string& type, std::chrono::milliseconds timeout) {
  auto msg = recv(timeout);
  if (msg["type"] != type) throw std::runtime_error("expected " + type + ", got " + msg.dump());
  return msg;
}

json WsClient::recv_until(const std::string& type, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) throw std::runtime_error("no " + type + " within the timeout");
    auto msg = recv(left);
    if (msg["type"] == type) return msg;
  }
}

int WsClient::wait_closed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) throw std::runtime_error("the server did not close the connection in time");
    std::string text;
    switch (read_one(left, text)) {
      case ReadResult::closed: return close_code_;
      case ReadResult::failed: return -1;
      case ReadResult::timeout:
      case ReadResult::message: break;
    }
  }
}

void WsClient::close() {
  // Asynchronous, so it can share the stream with a read left pending by a timeout.
  bool closed = false;
  impl_->ws.async_close(websocket::close_code::normal, [&closed](beast::error_code) { closed = true; });
  impl_->run_until(closed, std::chrono::seconds(5));
}

void WsClient::kill() {
  auto& socket = beast::get_lowest_layer(impl_->ws).socket();
  beast::error_code ignored;
  socket.set_option(net::socket_base::linger(true, 0), ignored);  // close() then sends RST
  socket.close(ignored);
}

void WsClient::drop() {
  beast::error_code ignored;
  beast::get_lowest_layer(impl_->ws).socket().shutdown(tcp::socket::shutdown_both, ignored);
  beast::get_lowest_layer(impl_->ws).socket().close(ignored);
}

}  // namespace mtown::test
