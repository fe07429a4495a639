// A blocking Redis connection (hiredis) owned by one thread: connect with AUTH and SELECT,
// single commands, pipelines, and non-blocking reads for pub/sub. Failures come back as
// values (never exceptions); an I/O failure closes the connection.
#pragma once
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mtown/core/dependency_probe.hpp"

struct redisContext;

namespace mtown::core {

struct RedisReply {
  enum class Type { nil, string, integer, array, status, error };
  Type type = Type::nil;
  std::string str;  // string, status and error replies
  long long integer = 0;
  std::vector<RedisReply> elements;

  bool is_error() const { return type == Type::error; }
  bool is_nil() const { return type == Type::nil; }
};

enum class RedisFailure { unreachable, auth, io, protocol };

struct RedisError {
  RedisFailure kind = RedisFailure::io;
  std::string message;
};

class RedisClient {
 public:
  using Args = std::vector<std::string>;

  RedisClient();
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Connects, AUTHs (when the URL has a password), SELECTs the URL's db and PINGs.
  // `timeout` bounds the connect and every later read and write.
  std::optional<RedisError> connect(const RedisUrl& url, std::chrono::milliseconds timeout);
  bool connected() const { return ctx_ != nullptr; }
  void close();
  const RedisError& last_error() const { return error_; }

  // nullopt on an I/O failure (see last_error()); a Redis error reply is a reply.
  std::optional<RedisReply> command(const Args& args);
  // Sends every command in one write, then reads every reply. False on an I/O failure.
  bool pipeline(const std::vector<Args>& commands, std::vector<RedisReply>& replies);

  // Pub/sub: send without reading, then read what has arrived without blocking.
  bool send(const Args& args);
  int fd() const;
  // Reads what the socket has (call when fd() is readable) and appends every complete reply.
  bool read_available(std::vector<RedisReply>& out);

 private:
  bool fail(RedisFailure kind, std::string message);
  bool append(const Args& args);
  bool read_one(RedisReply& out);

  redisContext* ctx_ = nullptr;
  RedisError error_;
};

// "NOAUTH ...", "WRONGPASS ...", "ERR invalid password": the reply refuses our credentials.
bool is_auth_error(const std::string& message);

}  // namespace mtown::core
