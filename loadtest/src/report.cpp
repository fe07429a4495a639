#include "report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace mtown::loadtest {

using nlohmann::json;

namespace {

double r3(double v) { return std::round(v * 1000.0) / 1000.0; }
double ms(std::uint64_t us) { return r3(static_cast<double>(us) / 1000.0); }

json histogram_json(const Histogram& h, bool with_buckets) {
  json j{{"count", h.count()},     {"min_ms", ms(h.min())},          {"mean_ms", r3(h.mean() / 1000.0)},
         {"p50_ms", ms(h.percentile(0.5))},  {"p90_ms", ms(h.percentile(0.9))}, {"p95_ms", ms(h.percentile(0.95))},
         {"p99_ms", ms(h.percentile(0.99))}, {"p999_ms", ms(h.percentile(0.999))}, {"max_ms", ms(h.max())}};
  if (with_buckets) {
    json b = json::array();
    for (const auto& x : h.buckets()) b.push_back({ms(x.low), ms(x.high), x.count});
    j["buckets"] = std::move(b);  // [low_ms, high_ms, count]
  }
  return j;
}

double metric(const std::map<std::string, double>& m, const char* name) {
  const auto it = m.find(name);
  return it == m.end() ? 0.0 : it->second;
}

json options_json(const Options& o) {
  json mix = json::object();
  for (const auto& e : o.mix) mix[scenario_name(e.scenario)] = e.percent;
  json thresholds = json::array();
  for (const auto& t : o.thresholds) thresholds.push_back(t.text);
  return {{"url", o.url},
          {"spawn", o.spawn},
          {"spawn_set", o.spawn_sets},
          {"bots", o.bots},
          {"mix", mix},
          {"ramp_per_s", o.ramp_per_s},
          {"duration_s", o.duration_s},
          {"drain_s", o.drain_s},
          {"seed", o.seed},
          {"threads", o.threads},
          {"encoding", o.encoding == Encoding::json ? "json" : "msgpack"},
          {"source_ips", o.source_ips},
          {"room_size", o.room_size},
          {"input_hz", o.input_hz},
          {"heartbeat_s", o.heartbeat_s},
          {"think_ms", o.think_ms},
          {"thresholds", thresholds}};
}

// A /metrics counter's change over the run; null without /metrics.
json delta(const RunData& run, const char* name) {
  if (run.server_before.empty() || run.server_after.empty()) return nullptr;
  return metric(run.server_after, name) - metric(run.server_before, name);
}

// The bots' counts against the server's own over the same span (deltas of /metrics).
json cross_check(const RunData& run) {
  if (run.server_before.empty() || run.server_after.empty())
    return {{"available", false}, {"error", run.metrics_error}};
  const auto server_in = delta(run, "mtown_messages_in_total").get<double>();
  const auto server_out = delta(run, "mtown_messages_out_total").get<double>();
  const auto sent = static_cast<double>(run.stats.msgs_out), received = static_cast<double>(run.stats.msgs_in);
  const auto diff = [](double ours, double theirs) { return theirs > 0 ? r3((ours - theirs) * 100.0 / theirs) : 0.0; };
  return {{"available", true},
          {"bots_sent", run.stats.msgs_out},
          {"server_received", server_in},
          {"sent_diff_percent", diff(sent, server_in)},
          {"bots_received", run.stats.msgs_in},
          {"server_sent", server_out},
          {"received_diff_percent", diff(received, server_out)},
          {"note", "server counters are deltas of /metrics over the run; other clients of the same server count too; "
                   "with churn, a dropped connection's unread messages count as sent (and again when replayed)"}};
}

double window_in_rate(const std::vector<TimelinePoint>& timeline) {
  double sum = 0;
  int n = 0;
  for (const auto& p : timeline)
    if (p.in_window) sum += p.msgs_in_per_s, ++n;
  return n ? sum / n : 0.0;
}

}  // namespace

json build_report(const RunData& run) {
  const Options& o = *run.options;
  const Stats& s = run.stats;
  std::vector<double> rates = s.state_rate;
  std::sort(rates.begin(), rates.end());
  double rate_sum = 0;
  for (double r : rates) rate_sum += r;
  const auto rate_at = [&](double q) {
    return rates.empty() ? 0.0 : rates[static_cast<std::size_t>(q * static_cast<double>(rates.size() - 1))];
  };
  const std::uint64_t errors = s.connect_failures + s.disconnects + s.protocol_errors + s.error_msgs + s.resumes_failed;
  const double operations = static_cast<double>(s.msgs_out + s.connect_attempts);
  json planned = json::object();
  for (const auto& [sc, n] : run.planned) planned[scenario_name(sc)] = n;
  json error_codes = json::object();
  for (const auto& [code, n] : s.error_codes) error_codes[code] = n;

  json timeline = json::array();
  for (const auto& p : run.timeline)
    timeline.push_back({{"t_s", r3(p.t_s)}, {"connected", p.connected}, {"msgs_in_per_s", r3(p.msgs_in_per_s)},
                        {"msgs_out_per_s", r3(p.msgs_out_per_s)}, {"bytes_in_per_s", r3(p.bytes_in_per_s)},
                        {"bytes_out_per_s", r3(p.bytes_out_per_s)}, {"p50_ms", r3(p.p50_ms)}, {"p95_ms", r3(p.p95_ms)},
                        {"p99_ms", r3(p.p99_ms)}, {"samples", p.samples}, {"errors", p.errors},
                        {"in_window", p.in_window}});

  double max_share = 0;
  for (double c : run.thread_cpu_share) max_share = std::max(max_share, c);
  json server{{"version", run.server_version}, {"target", run.target}};
  if (run.server_cpu_share >= 0) server["cpu_share"] = r3(run.server_cpu_share);
  if (!run.server_at_window.empty()) {
    server["tick_overruns"] = metric(run.server_after, "mtown_tick_overruns_total");
    server["slow_consumer_closes"] = metric(run.server_after, "mtown_ws_closed_total");
    const double rss0 = metric(run.server_before, "process_resident_memory_bytes");
    const double rss1 = metric(run.server_at_window, "process_resident_memory_bytes");
    server["resident_bytes_before"] = rss0;
    server["resident_bytes_at_window"] = rss1;
    if (run.connected_at_window > 0)
      server["memory_per_conn_bytes"] = r3((rss1 - rss0) / run.connected_at_window);
  }

  return {
      {"tool", "mtown loadtest"},
      {"version", "mtown " MTOWN_VERSION},
      {"started_at", run.started_at},
      {"config", options_json(o)},
      {"server", server},
      {"bots", {{"planned", planned}, {"started", run.bots_started}, {"connected_at_window", run.connected_at_window}}},
      {"ramp_s", r3(run.ramp_s)},
      {"window_s", r3(run.window_s)},
      {"latency", histogram_json(s.latency_us, true)},
      {"input_latency", histogram_json(s.input_latency_us, false)},
      {"ping_rtt", histogram_json(s.ping_rtt_us, false)},
      {"arena",
       {{"inputs", s.inputs}, {"unacked", s.unacked}, {"state_messages", s.state_msgs},
        {"state_rate_per_bot", {{"avg", r3(rates.empty() ? 0 : rate_sum / rates.size())}, {"p5", r3(rate_at(0.05))},
                                {"min", r3(rates.empty() ? 0 : rates.front())}}},
        {"tick_gaps", s.tick_gaps},
        {"jitter", histogram_json(s.jitter_us, false)}}},
      {"party", {{"games_completed", s.games_completed}, {"rounds", s.rounds},
                 {"phase_result", histogram_json(s.phase_result_us, false)}}},
      {"idle", {{"pings", s.pings}}},
      {"churn",
       {{"drops", s.drops}, {"resumes", s.resumes}, {"resumes_failed", s.resumes_failed},
        {"snapshot_fallbacks", s.snapshot_fallbacks}, {"replayed_messages", s.replayed},
        {"snapshot_skipped_messages", s.snapshot_skipped},
        {"server_resumes", delta(run, "mtown_sessions_resumed_total")},
        {"resume", histogram_json(s.resume_us, false)}}},
      {"sequence", {{"missed", s.seq_missed}, {"duplicated", s.seq_duplicated}}},
      {"totals",
       {{"messages_out", s.msgs_out}, {"messages_in", s.msgs_in}, {"bytes_out", s.bytes_out}, {"bytes_in", s.bytes_in},
        {"wire_bytes_out", s.wire_bytes_out}, {"wire_bytes_in", s.wire_bytes_in},
        {"messages_in_per_s_window", r3(window_in_rate(run.timeline))}}},
      {"errors",
       {{"count", errors}, {"percent", operations > 0 ? r3(errors * 100.0 / operations) : 0.0},
        {"connect_attempts", s.connect_attempts}, {"connect_failures", s.connect_failures},
        {"disconnects", s.disconnects}, {"protocol_errors", s.protocol_errors}, {"error_messages", s.error_msgs},
        {"by_code", error_codes}, {"first_connect_error", s.first_connect_error}}},
      {"metrics_cross_check", cross_check(run)},
      {"generator",
       {{"threads", run.thread_cpu_share.size()}, {"thread_cpu_share", run.thread_cpu_share},
        {"max_thread_cpu_share", r3(max_share)}, {"process_cpu_s", r3(run.process_cpu_s)}, {"reads", run.reads},
        {"saturated", max_share > 0.9}}},
      {"timeline", timeline},
      {"warnings", run.warnings},
  };
}

std::map<std::string, double> threshold_figures(const json& r) {
  std::map<std::string, double> f;
  const auto& lat = r["latency"];
  if (lat.value("count", 0) > 0) {
    for (const char* p : {"p50", "p90", "p95", "p99", "p999"}) f[p] = lat.value(std::string(p) + "_ms", 0.0);
    f["max"] = lat.value("max_ms", 0.0);
  }
  f["errors"] = r["errors"].value("percent", 0.0);
  f["error_count"] = r["errors"].value("count", 0.0);
  f["connected"] = r["bots"].value("connected_at_window", 0.0);
  f["msg_rate"] = r["totals"].value("messages_in_per_s_window", 0.0);
  const auto& planned = r["bots"]["planned"];
  if (planned.contains("arena")) {
    f["state_rate"] = r["arena"]["state_rate_per_bot"].value("avg", 0.0);
    f["state_rate_p5"] = r["arena"]["state_rate_per_bot"].value("p5", 0.0);
    f["unacked"] = r["arena"].value("unacked", 0.0);
    if (r["arena"]["jitter"].value("count", 0) > 0) f["jitter_p99"] = r["arena"]["jitter"].value("p99_ms", 0.0);
  }
  if (planned.contains("party")) {
    f["games_completed"] = r["party"].value("games_completed", 0.0);
    if (r["party"]["phase_result"].value("count", 0) > 0)
      f["phase_result_p95"] = r["party"]["phase_result"].value("p95_ms", 0.0);
  }
  f["missed"] = r["sequence"].value("missed", 0.0);
  f["duplicated"] = r["sequence"].value("duplicated", 0.0);
  if (planned.contains("churn")) {
    const auto& c = r["churn"];
    f["resumes"] = c.value("resumes", 0.0);
    f["resumes_failed"] = c.value("resumes_failed", 0.0);
    f["snapshot_fallbacks"] = c.value("snapshot_fallbacks", 0.0);
    if (c["resume"].value("count", 0) > 0)
      for (const char* p : {"p50", "p95", "p99"}) f[std::string("resume_") + p] = c["resume"].value(std::string(p) + "_ms", 0.0);
  }
  if (planned.contains("idle") && r["server"].contains("memory_per_conn_bytes"))
    f["memory_per_conn"] = r["server"]["memory_per_conn_bytes"].get<double>();
  return f;
}

std::string summary_text(const json& r) {
  std::string out;
  char line[512];
  const auto& lat = r["latency"];
  std::snprintf(line, sizeof line, "mtown loadtest: %s against %s (%s), %.1f s window after a %.1f s ramp\n",
                r["config"]["mix"].dump().c_str(), r["server"].value("target", "").c_str(),
                r["server"].value("version", "?").c_str(), r.value("window_s", 0.0), r.value("ramp_s", 0.0));
  out += line;
  std::snprintf(line, sizeof line, "  bots: %d started, %d connected at the window; messages out %llu, in %llu\n",
                r["bots"].value("started", 0), r["bots"].value("connected_at_window", 0),
                r["totals"].value("messages_out", 0ULL), r["totals"].value("messages_in", 0ULL));
  out += line;
  std::snprintf(line, sizeof line, "  latency (%llu samples): p50 %.2f ms, p95 %.2f ms, p99 %.2f ms, max %.2f ms\n",
                lat.value("count", 0ULL), lat.value("p50_ms", 0.0), lat.value("p95_ms", 0.0), lat.value("p99_ms", 0.0),
                lat.value("max_ms", 0.0));
  out += line;
  const auto& planned = r["bots"]["planned"];
  if (planned.contains("arena")) {
    const auto& a = r["arena"];
    std::snprintf(line, sizeof line,
                  "  arena: state %.2f/s per bot (p5 %.2f), jitter p99 %.2f ms, tick gaps %llu, inputs %llu, unacked %llu\n",
                  a["state_rate_per_bot"].value("avg", 0.0), a["state_rate_per_bot"].value("p5", 0.0),
                  a["jitter"].value("p99_ms", 0.0), a.value("tick_gaps", 0ULL), a.value("inputs", 0ULL),
                  a.value("unacked", 0ULL));
    out += line;
  }
  if (planned.contains("party")) {
    const auto& p = r["party"];
    std::snprintf(line, sizeof line, "  party: %llu games completed, %llu rounds, last vote -> result p95 %.2f ms\n",
                  p.value("games_completed", 0ULL), p.value("rounds", 0ULL), p["phase_result"].value("p95_ms", 0.0));
    out += line;
  }
  if (planned.contains("churn")) {
    const auto& c = r["churn"];
    std::snprintf(line, sizeof line,
                  "  churn: %llu drops, %llu resumed (%llu from a snapshot), %llu failed; resume p50 %.2f ms, p95 %.2f ms, "
                  "p99 %.2f ms\n",
                  c.value("drops", 0ULL), c.value("resumes", 0ULL), c.value("snapshot_fallbacks", 0ULL),
                  c.value("resumes_failed", 0ULL), c["resume"].value("p50_ms", 0.0), c["resume"].value("p95_ms", 0.0),
                  c["resume"].value("p99_ms", 0.0));
    out += line;
  }
  std::snprintf(line, sizeof line, "  seq: %llu missed, %llu duplicated\n", r["sequence"].value("missed", 0ULL),
                r["sequence"].value("duplicated", 0ULL));
  out += line;
  if (r["server"].contains("memory_per_conn_bytes")) {
    std::snprintf(line, sizeof line, "  server memory per connection: %.0f bytes\n",
                  r["server"]["memory_per_conn_bytes"].get<double>());
    out += line;
  }
  const auto& e = r["errors"];
  std::snprintf(line, sizeof line, "  errors: %llu (%.3f %%)%s%s\n", e.value("count", 0ULL), e.value("percent", 0.0),
                e["by_code"].empty() ? "" : " ", e["by_code"].empty() ? "" : e["by_code"].dump().c_str());
  out += line;
  const auto& x = r["metrics_cross_check"];
  if (x.value("available", false)) {
    std::snprintf(line, sizeof line, "  /metrics agrees: sent %+.3f %%, received %+.3f %% against the server's counts\n",
                  x.value("sent_diff_percent", 0.0), x.value("received_diff_percent", 0.0));
    out += line;
  }
  std::snprintf(line, sizeof line, "  generator: busiest thread %.0f %% of a core%s\n",
                r["generator"].value("max_thread_cpu_share", 0.0) * 100.0,
                r["generator"].value("saturated", false) ? " (SATURATED: latency includes the generator's own delay)" : "");
  out += line;
  for (const auto& w : r["warnings"]) out += "  warning: " + w.get<std::string>() + "\n";
  for (const auto& v : r.value("thresholds", json::array()))
    out += std::string("  ") + (v.value("passed", false) ? "PASS " : "FAIL ") + v.value("threshold", "") + ": " +
           v.value("detail", "") + "\n";
  out += "  verdict: " + r.value("verdict", std::string("?")) + "\n";
  return out;
}

}  // namespace mtown::loadtest
