// One connection's send queue. It numbers messages as they are queued (the protocol's
// per-connection `seq`) and is bounded in bytes so a slow reader can never hold more
// than its share of memory. Not thread-safe: owned by a session's strand.
#pragma once
#include <cstdint>
#include <deque>
#include <string>

#include "mtown/core/protocol.hpp"

namespace mtown::server {

class OutboundQueue {
 public:
  struct Entry {
    std::string prefix;  // {"seq":N,
    core::SharedMessage message;
    std::size_t bytes() const { return prefix.size() + message->body.size() - 1; }
  };

  explicit OutboundQueue(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  // False (and nothing queued) when the message would exceed the byte bound.
  bool push(core::SharedMessage message);
  const Entry& front() const { return entries_.front(); }
  const Entry& back() const { return entries_.back(); }
  void pop();
  void pop_back();
  void clear();

  bool empty() const { return entries_.empty(); }
  std::size_t size() const { return entries_.size(); }
  std::size_t bytes() const { return bytes_; }
  std::uint64_t last_seq() const { return next_seq_ - 1; }

 private:
  std::size_t max_bytes_;
  std::size_t bytes_ = 0;
  std::uint64_t next_seq_ = 1;
  std::deque<Entry> entries_;
};

}  // namespace mtown::server
