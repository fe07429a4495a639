// The bots' side of the wire protocol (schemas/protocol.md) in both encodings: a fast
// scan of the one message that arrives 60 times a second (arena `state`: its seq, tick
// and this seat's ack) without building a JSON tree, and encoders for client messages.
// Pure functions, no I/O: unit-tested, and shared with bench/.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace mtown::loadtest {

struct StateScan {
  std::uint64_t seq = 0;
  std::uint64_t tick = 0;
  std::uint64_t ack = 0;  // acks[seat]; 0 when the seat is not listed
};

// The leading `seq` of any server message (the server always writes it first); nullopt
// when the message does not start with it.
std::optional<std::uint64_t> json_leading_seq(std::string_view msg);
std::optional<std::uint64_t> msgpack_leading_seq(std::string_view msg);

// nullopt: not a state message (or not one this scanner understands: decode it fully).
std::optional<StateScan> scan_json_state(std::string_view msg, std::size_t seat);
std::optional<StateScan> scan_msgpack_state(std::string_view msg, std::size_t seat);

// `{"type":"input","input_seq":N,"data":{"action":"move","x":X,"y":Y}}`, x and y in tenths
// of a field unit, written without a JSON tree.
std::string json_move_input(std::uint64_t input_seq, int x_tenths, int y_tenths);

}  // namespace mtown::loadtest
