#include "mtown/core/redis_client.hpp"

#include <hiredis/hiredis.h>
#include <sys/time.h>

namespace mtown::core {
namespace {

RedisReply convert(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_STRING: out.type = RedisReply::Type::string; break;
    case REDIS_REPLY_STATUS: out.type = RedisReply::Type::status; break;
    case REDIS_REPLY_ERROR: out.type = RedisReply::Type::error; break;
    case REDIS_REPLY_INTEGER: out.type = RedisReply::Type::integer; break;
    case REDIS_REPLY_ARRAY: out.type = RedisReply::Type::array; break;
    default: out.type = RedisReply::Type::nil; break;
  }
  if (r->str) out.str.assign(r->str, r->len);
  out.integer = r->integer;
  for (std::size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
  return out;
}

timeval to_timeval(std::chrono::milliseconds ms) {
  return timeval{static_cast<time_t>(ms.count() / 1000), static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

}  // namespace

bool is_auth_error(const std::string& message) {
  return message.starts_with("NOAUTH") || message.starts_with("WRONGPASS") ||
         message.find("invalid password") != std::string::npos ||
         message.find("invalid username-password") != std::string::npos ||
         message.find("without any password configured") != std::string::npos;
}

RedisClient::RedisClient() = default;
RedisClient::~RedisClient() { close(); }

void RedisClient::close() {
  if (ctx_) redisFree(ctx_);
  ctx_ = nullptr;
}

bool RedisClient::fail(RedisFailure kind, std::string message) {
  error_ = {kind, std::move(message)};
  close();
  return false;
}

std::optional<RedisError> RedisClient::connect(const RedisUrl& url, std::chrono::milliseconds timeout) {
  close();
  const auto tv = to_timeval(timeout);
  ctx_ = redisConnectWithTimeout(url.host.c_str(), url.port, tv);
  if (!ctx_) return RedisError{RedisFailure::unreachable, "out of memory"};
  if (ctx_->err) {
    fail(RedisFailure::unreachable, "cannot connect to " + url.host + ":" + std::to_string(url.port) + ": " + ctx_->errstr);
    return error_;
  }
  redisSetTimeout(ctx_, tv);
  std::vector<Args> hello;
  if (!url.password.empty())
    hello.push_back(url.user.empty() ? Args{"AUTH", url.password} : Args{"AUTH", url.user, url.password});
  if (url.db != 0) hello.push_back({"SELECT", std::to_string(url.db)});
  hello.push_back({"PING"});
  std::vector<RedisReply> replies;
  if (!pipeline(hello, replies)) {
    error_.kind = RedisFailure::unreachable;
    return error_;
  }
  for (const auto& r : replies) {
    if (!r.is_error()) continue;
    fail(is_auth_error(r.str) ? RedisFailure::auth : RedisFailure::protocol, r.str);
    return error_;
  }
  return std::nullopt;
}

bool RedisClient::append(const Args& args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  if (redisAppendCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data()) != REDIS_OK)
    return fail(RedisFailure::io, ctx_->errstr);
  return true;
}

bool RedisClient::read_one(RedisReply& out) {
  void* raw = nullptr;
  if (redisGetReply(ctx_, &raw) != REDIS_OK || !raw)
    return fail(RedisFailure::io, ctx_->err ? ctx_->errstr : "no reply");
  out = convert(static_cast<redisReply*>(raw));
  freeReplyObject(raw);
  return true;
}

std::optional<RedisReply> RedisClient::command(const Args& args) {
  std::vector<RedisReply> replies;
  if (!pipeline({args}, replies)) return std::nullopt;
  return std::move(replies.front());
}

bool RedisClient::pipeline(const std::vector<Args>& commands, std::vector<RedisReply>& replies) {
  replies.clear();
  if (!ctx_) return fail(RedisFailure::io, "not connected");
  for (const auto& c : commands)
    if (!append(c)) return false;
  replies.resize(commands.size());
  for (auto& r : replies)
    if (!read_one(r)) return false;
  return true;
}

bool RedisClient::send(const Args& args) {
  if (!ctx_) return fail(RedisFailure::io, "not connected");
  if (!append(args)) return false;
  int done = 0;
  while (!done)
    if (redisBufferWrite(ctx_, &done) != REDIS_OK) return fail(RedisFailure::io, ctx_->errstr);
  return true;
}

int RedisClient::fd() const { return ctx_ ? ctx_->fd : -1; }

bool RedisClient::read_available(std::vector<RedisReply>& out) {
  if (!ctx_) return fail(RedisFailure::io, "not connected");
  if (redisBufferRead(ctx_) != REDIS_OK) return fail(RedisFailure::io, ctx_->errstr);
  for (;;) {
    void* raw = nullptr;
    if (redisReaderGetReply(ctx_->reader, &raw) != REDIS_OK) return fail(RedisFailure::protocol, "bad reply");
    if (!raw) return true;
    out.push_back(convert(static_cast<redisReply*>(raw)));
    freeReplyObject(raw);
  }
}

}  // namespace mtown::core
