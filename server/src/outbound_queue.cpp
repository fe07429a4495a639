#include "mtown/server/outbound_queue.hpp"

namespace mtown::server {

OutboundQueue::Entry OutboundQueue::entry(core::SharedMessage message, std::uint64_t seq) const {
  Entry e;
  if (encoding_ == Encoding::json) {
    e.prefix = core::seq_prefix(seq);
    e.tail = core::body_tail(message->body);
  } else {
    const auto& packed = message->msgpack();
    e.prefix = core::msgpack_seq_prefix(seq, packed.entries);
    e.tail = std::string_view(packed.bytes).substr(packed.header_len);
  }
  e.message = std::move(message);
  return e;
}

bool OutboundQueue::push(core::SharedMessage message, std::uint64_t seq) {
  Entry entry = this->entry(std::move(message), seq);
  const std::size_t n = entry.bytes();
  // An empty queue always takes one message, so a single large message can still go out.
  if (!entries_.empty() && bytes_ + n > max_bytes_) return false;
  next_seq_ = seq + 1;
  bytes_ += n;
  entries_.push_back(std::move(entry));
  return true;
}

void OutboundQueue::pop() {
  bytes_ -= entries_.front().bytes();
  entries_.pop_front();
}

void OutboundQueue::pop_back() {
  bytes_ -= entries_.back().bytes();
  entries_.pop_back();
}

void OutboundQueue::clear() {
  entries_.clear();
  bytes_ = 0;
}

}  // namespace mtown::server
