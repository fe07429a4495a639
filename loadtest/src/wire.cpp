#include "mtown/loadtest/wire.hpp"

#include <cstdio>
#include <cstring>

namespace mtown::loadtest {
namespace {

std::optional<std::uint64_t> digits(std::string_view s, std::size_t at) {
  std::uint64_t v = 0;
  std::size_t i = at;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') v = v * 10 + static_cast<std::uint64_t>(s[i++] - '0');
  if (i == at) return std::nullopt;
  return v;
}

// ---- a minimal MessagePack reader: enough to walk a map and skip any value ----------

struct Reader {
  std::string_view b;
  std::size_t at = 0;
  bool ok = true;

  std::uint8_t byte() {
    if (at >= b.size()) return ok = false, 0;
    return static_cast<std::uint8_t>(b[at++]);
  }
  std::uint64_t be(int n) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | byte();
    return v;
  }
  void skip(std::size_t n) {
    if (b.size() - at < n) ok = false, at = b.size();
    else at += n;
  }
  // Reads an unsigned integer (positive fixint, uint8..64); nullopt for anything else.
  std::optional<std::uint64_t> uint() {
    const auto t = byte();
    if (t <= 0x7f) return t;
    if (t >= 0xcc && t <= 0xcf) return be(1 << (t - 0xcc));
    return std::nullopt;
  }
  std::optional<std::string_view> str() {
    const auto t = byte();
    std::size_t n;
    if ((t & 0xe0) == 0xa0) n = t & 0x1f;
    else if (t == 0xd9) n = be(1);
    else if (t == 0xda) n = be(2);
    else if (t == 0xdb) n = be(4);
    else return std::nullopt;
    if (b.size() - at < n) return ok = false, std::nullopt;
    const auto s = b.substr(at, n);
    at += n;
    return s;
  }
  // Map or array header: element count (map: pairs); nullopt when not one.
  std::optional<std::size_t> container(bool map) {
    const auto t = byte();
    if (map) {
      if ((t & 0xf0) == 0x80) return t & 0x0f;
      if (t == 0xde) return be(2);
      if (t == 0xdf) return be(4);
    } else {
      if ((t & 0xf0) == 0x90) return t & 0x0f;
      if (t == 0xdc) return be(2);
      if (t == 0xdd) return be(4);
    }
    return std::nullopt;
  }
  void skip_value(int depth = 0) {
    if (depth > 64) return void(ok = false);
    const auto t = byte();
    if (t <= 0x7f || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3) return;
    if ((t & 0xe0) == 0xa0) return skip(t & 0x1f);
    if ((t & 0xf0) == 0x80 || (t & 0xf0) == 0x90) {
      const std::size_t n = (t & 0x0f) * ((t & 0xf0) == 0x80 ? 2 : 1);
      for (std::size_t i = 0; i < n && ok; ++i) skip_value(depth + 1);
      return;
    }
    switch (t) {
      case 0xcc: case 0xd0: return skip(1);
      case 0xcd: case 0xd1: return skip(2);
      case 0xce: case 0xd2: case 0xca: return skip(4);
      case 0xcf: case 0xd3: case 0xcb: return skip(8);
      case 0xd9: case 0xc4: return skip(be(1));
      case 0xda: case 0xc5: return skip(be(2));
      case 0xdb: case 0xc6: return skip(be(4));
      case 0xdc: case 0xdd: case 0xde: case 0xdf: {
        const std::size_t n = (t == 0xdc || t == 0xde) ? be(2) : be(4);
        const std::size_t items = n * (t >= 0xde ? 2 : 1);
        for (std::size_t i = 0; i < items && ok; ++i) skip_value(depth + 1);
        return;
      }
      default: ok = false;  // ext types: never sent by the server
    }
  }
};

}  // namespace

std::optional<std::uint64_t> json_leading_seq(std::string_view msg) {
  static constexpr std::string_view kSeq = "{\"seq\":";
  if (!msg.starts_with(kSeq)) return std::nullopt;
  return digits(msg, kSeq.size());
}

std::optional<std::uint64_t> msgpack_leading_seq(std::string_view msg) {
  Reader r{msg};
  if (!r.container(true)) return std::nullopt;
  const auto key = r.str();
  if (!key || *key != "seq") return std::nullopt;
  return r.uint();
}

// The body is nlohmann's dump with sorted keys after the injected seq:
// {"seq":N,"acks":[..],"code":"..","delta":{..},"events":[..],"tick":T,"type":"state"}
std::optional<StateScan> scan_json_state(std::string_view msg, std::size_t seat) {
  static constexpr std::string_view kTail = ",\"type\":\"state\"}";
  static constexpr std::string_view kAcks = "\"acks\":[";
  static constexpr std::string_view kTick = ",\"tick\":";
  if (!msg.ends_with(kTail)) return std::nullopt;
  StateScan s;
  const auto seq = json_leading_seq(msg);
  if (!seq) return std::nullopt;
  s.seq = *seq;
  const auto tick_at = msg.rfind(kTick);
  if (tick_at == std::string_view::npos) return std::nullopt;
  const auto tick = digits(msg, tick_at + kTick.size());
  if (!tick) return std::nullopt;
  s.tick = *tick;
  auto p = msg.find(kAcks);
  if (p == std::string_view::npos) return s;
  p += kAcks.size();
  for (std::size_t i = 0; i < seat; ++i) {
    p = msg.find_first_of(",]", p);
    if (p == std::string_view::npos || msg[p] == ']') return s;
    ++p;
  }
  if (const auto ack = digits(msg, p)) s.ack = *ack;
  return s;
}

std::optional<StateScan> scan_msgpack_state(std::string_view msg, std::size_t seat) {
  Reader r{msg};
  const auto entries = r.container(true);
  if (!entries) return std::nullopt;
  StateScan s;
  bool is_state = false, has_seq = false, has_tick = false;
  for (std::size_t i = 0; i < *entries && r.ok; ++i) {
    const auto key = r.str();
    if (!key) return std::nullopt;
    if (*key == "seq" || *key == "tick") {
      const auto v = r.uint();
      if (!v) return std::nullopt;
      (*key == "seq" ? s.seq : s.tick) = *v;
      (*key == "seq" ? has_seq : has_tick) = true;
    } else if (*key == "type") {
      const auto v = r.str();
      if (!v || *v != "state") return std::nullopt;  // not a state: decode it fully
      is_state = true;
    } else if (*key == "acks") {
      const auto n = r.container(false);
      if (!n) return std::nullopt;
      for (std::size_t k = 0; k < *n && r.ok; ++k) {
        if (k == seat) {
          const auto v = r.uint();
          if (!v) return std::nullopt;
          s.ack = *v;
        } else {
          r.skip_value();
        }
      }
    } else {
      r.skip_value();
    }
  }
  if (!r.ok || !is_state || !has_seq || !has_tick) return std::nullopt;
  return s;
}

std::string json_move_input(std::uint64_t input_seq, int x_tenths, int y_tenths) {
  char buf[160];
  const int n = std::snprintf(buf, sizeof buf,
                              R"({"type":"input","input_seq":%llu,"data":{"action":"move","x":%d.%d,"y":%d.%d}})",
                              static_cast<unsigned long long>(input_seq), x_tenths / 10, x_tenths % 10,
                              y_tenths / 10, y_tenths % 10);
  return std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace mtown::loadtest
