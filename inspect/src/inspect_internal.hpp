// Inside `mtown inspect`: readers turn Redis keys into a JSON model (whose field names
// are the documented --json output), views turn the model into tables.
#pragma once
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "mtown/core/redis_client.hpp"
#include "mtown/inspect/inspect.hpp"

namespace mtown::inspect {

using nlohmann::json;

// A failure with its exit code and a message saying what to check.
class InspectError : public std::runtime_error {
 public:
  InspectError(int exit_code, const std::string& message) : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

// Connected client, or InspectError (unreachable, auth).
void connect_or_throw(core::RedisClient& client, const core::RedisUrl& url, int timeout_ms);

// Each model carries "unknown_keys": [{"key","problem"}] for keys it could not read.
json read_rooms(core::RedisClient& c, const InspectOptions& o);
json read_room(core::RedisClient& c, const InspectOptions& o);  // throws not found
json read_players(core::RedisClient& c, const InspectOptions& o);
json read_nodes(core::RedisClient& c, const InspectOptions& o);
json read_stats(core::RedisClient& c, const InspectOptions& o);

std::string render(View view, const json& model);
std::string render_close(const json& result);

// `room CODE --close --yes`: the close_result, or InspectError(close_unconfirmed).
json request_close(core::RedisClient& c, const core::RedisUrl& url, const InspectOptions& o);

// "ABCD" from "abcd"; InspectError(usage) if it cannot be a room code.
std::string room_code_or_throw(const std::string& typed);

}  // namespace mtown::inspect
