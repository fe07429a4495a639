#include "mtown/loadtest/options.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

namespace mtown::loadtest {

const char* scenario_name(Scenario s) {
  switch (s) {
    case Scenario::arena: return "arena";
    case Scenario::party: return "party";
    case Scenario::idle: return "idle";
    case Scenario::churn: return "churn";
  }
  return "?";
}

Scenario parse_scenario(const std::string& name) {
  for (auto s : {Scenario::arena, Scenario::party, Scenario::idle, Scenario::churn})
    if (name == scenario_name(s)) return s;
  throw std::invalid_argument("unknown scenario \"" + name + "\" (arena, party, idle, churn)");
}

void parse_url(const std::string& url, Options& o) {
  const auto bad = [&] { throw std::invalid_argument("--url: expected ws://HOST:PORT[/PATH], got \"" + url + "\""); };
  if (!url.starts_with("ws://")) bad();
  const auto rest = url.substr(5);
  const auto slash = rest.find('/');
  const auto hostport = rest.substr(0, slash);
  const auto colon = hostport.rfind(':');
  if (colon == std::string::npos || colon == 0) bad();
  o.host = hostport.substr(0, colon);
  if (o.host == "localhost") o.host = "127.0.0.1";
  char* end = nullptr;
  const long port = std::strtol(hostport.c_str() + colon + 1, &end, 10);
  if (*end != '\0' || port < 1 || port > 65535) bad();
  o.port = static_cast<std::uint16_t>(port);
  o.path = slash == std::string::npos ? "/ws" : rest.substr(slash);
  in_addr a4{};
  in6_addr a6{};
  if (inet_pton(AF_INET, o.host.c_str(), &a4) != 1 && inet_pton(AF_INET6, o.host.c_str(), &a6) != 1)
    throw std::invalid_argument("--url: the host must be an IP address, got \"" + o.host + "\"");
  o.url = url;
}

std::vector<MixEntry> parse_mix(const std::string& text) {
  std::vector<MixEntry> out;
  int sum = 0;
  std::size_t at = 0;
  while (at <= text.size()) {
    const auto comma = std::min(text.find(',', at), text.size());
    const auto part = text.substr(at, comma - at);
    const auto eq = part.find('=');
    if (eq == std::string::npos) throw std::invalid_argument("--mix: expected NAME=PERCENT[,...], got \"" + part + "\"");
    char* end = nullptr;
    const long pct = std::strtol(part.c_str() + eq + 1, &end, 10);
    if (*end != '\0' || pct < 0 || pct > 100) throw std::invalid_argument("--mix: bad percentage in \"" + part + "\"");
    const auto s = parse_scenario(part.substr(0, eq));
    for (const auto& e : out)
      if (e.scenario == s) throw std::invalid_argument("--mix: " + part.substr(0, eq) + " named twice");
    if (pct > 0) out.push_back({s, static_cast<int>(pct)});
    sum += static_cast<int>(pct);
    at = comma + 1;
  }
  if (sum != 100) throw std::invalid_argument("--mix: percentages must add up to 100, got " + std::to_string(sum));
  return out;
}

double parse_ramp(const std::string& text, int bots) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  const std::string unit = end;
  if (end == text.c_str() || v < 0) throw std::invalid_argument("--ramp: expected RATE/s or SECONDS s, got \"" + text + "\"");
  if (unit == "/s") return v;
  if (unit == "s") return v == 0 ? 0 : bots / v;
  throw std::invalid_argument("--ramp: expected e.g. 200/s (connections per second) or 10s (all bots over 10 s)");
}

std::vector<std::string> parse_source_ips(const std::string& text) {
  const auto to_u32 = [&](const std::string& s) {
    in_addr a{};
    if (inet_pton(AF_INET, s.c_str(), &a) != 1) throw std::invalid_argument("--source-ips: not an IPv4 address: " + s);
    return ntohl(a.s_addr);
  };
  const auto to_text = [](std::uint32_t v) {
    in_addr a{htonl(v)};
    char buf[INET_ADDRSTRLEN];
    return std::string(inet_ntop(AF_INET, &a, buf, sizeof buf));
  };
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at <= text.size()) {
    const auto comma = std::min(text.find(',', at), text.size());
    const auto part = text.substr(at, comma - at);
    const auto dash = part.find('-');
    if (dash == std::string::npos) {
      out.push_back(to_text(to_u32(part)));
    } else {
      const auto lo = to_u32(part.substr(0, dash)), hi = to_u32(part.substr(dash + 1));
      if (hi < lo || hi - lo > 65535) throw std::invalid_argument("--source-ips: bad range " + part);
      for (auto v = lo; v <= hi; ++v) out.push_back(to_text(v));
    }
    at = comma + 1;
  }
  return out;
}

void validate(const Options& o) {
  if (!o.spawn && o.port == 0) throw std::invalid_argument("give --url ws://HOST:PORT/ws or --spawn");
  if (o.spawn && !o.url.empty()) throw std::invalid_argument("--spawn starts its own server; leave out --url");
  if (o.bots < 1 || o.bots > 1000000) throw std::invalid_argument("--bots must be 1..1000000");
  if (o.duration_s <= 0 || o.duration_s > 86400) throw std::invalid_argument("--duration must be > 0 and <= 86400 s");
  if (o.room_size < 2 || o.room_size > 8) throw std::invalid_argument("--room-size must be 2..8");
  if (o.input_hz <= 0 || o.input_hz > 1000) throw std::invalid_argument("--input-hz must be > 0 and <= 1000");
  if (o.heartbeat_s <= 0) throw std::invalid_argument("--heartbeat must be > 0");
  if (o.churn_rate <= 0 || o.churn_rate > 100) throw std::invalid_argument("--churn-rate must be > 0 and <= 100");
  if (o.threads < 0 || o.threads > 1024) throw std::invalid_argument("--threads must be 0..1024");
  for (const auto& t : o.thresholds) {
    const char* needs = "";
    for (const auto& m : threshold_metrics())
      if (t.metric == m.name) needs = m.scenario;
    if (!*needs) continue;
    const bool present = std::any_of(o.mix.begin(), o.mix.end(),
                                     [&](const MixEntry& e) { return std::string(scenario_name(e.scenario)) == needs; });
    if (!present)
      throw std::invalid_argument("threshold \"" + t.text + "\": " + t.metric + " is measured by the " + needs +
                                  " scenario, which this run does not include");
  }
}

}  // namespace mtown::loadtest
