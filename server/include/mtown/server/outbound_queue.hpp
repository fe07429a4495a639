// One connection's send queue. It numbers messages as they are queued (the protocol's
// per-connection `seq`) and is bounded in bytes so a slow reader can never hold more
// than its share of memory. Not thread-safe: owned by a session's strand.
#pragma once
#include <cstdint>
#include <deque>
#include <string>

#include "mtown/core/protocol.hpp"

namespace mtown::server {

enum class Encoding { json, msgpack };

class OutboundQueue {
 public:
  // One frame: prefix (per connection: the seq) then tail (shared by every recipient).
  struct Entry {
    std::string prefix;     // {"seq":N,   or a MessagePack map header + "seq" + N
    std::string_view tail;  // into *message: the body after its opening
    core::SharedMessage message;
    std::size_t bytes() const { return prefix.size() + tail.size(); }
  };

  explicit OutboundQueue(std::size_t max_bytes, Encoding encoding = Encoding::json)
      : max_bytes_(max_bytes), encoding_(encoding) {}
  Encoding encoding() const { return encoding_; }

  // False (and nothing queued) when the message would exceed the byte bound.
  bool push(core::SharedMessage message) { return push(std::move(message), next_seq_); }
  // With the seq its session gave it (seq continues across a session's connections).
  bool push(core::SharedMessage message, std::uint64_t seq);
  // The frame push would queue, for a writer that sends it without queueing it.
  Entry entry(core::SharedMessage message, std::uint64_t seq) const;
  const Entry& front() const { return entries_.front(); }
  const Entry& at(std::size_t i) const { return entries_[i]; }
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
  Encoding encoding_;
  std::size_t bytes_ = 0;
  std::uint64_t next_seq_ = 1;
  std::deque<Entry> entries_;
};

}  // namespace mtown::server
