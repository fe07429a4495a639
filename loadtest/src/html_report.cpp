// The --html page: one self-contained file (no scripts, fonts or fetches) with the
// charts drawn as inline SVG from the JSON report: latency over time, the latency
// histogram, connections and message rate over time; then thresholds and figures.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "report.hpp"

namespace mtown::loadtest {

using nlohmann::json;

namespace {

constexpr double kW = 720, kH = 240, kLeft = 60, kRight = 20, kTop = 28, kBottom = 36;

std::string esc(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

struct Series {
  std::string name, color;
  std::vector<double> y;
};

std::string frame(const std::string& title, double ymax, const std::string& unit) {
  std::string s = "<svg xmlns='http://www.w3.org/2000/svg' width='" + num(kW) + "' height='" + num(kH) +
                  "' font-family='sans-serif' font-size='11'>";
  s += "<text x='" + num(kLeft) + "' y='16' font-size='13' font-weight='bold'>" + esc(title) + "</text>";
  for (int i = 0; i <= 4; ++i) {
    const double y = kTop + (kH - kTop - kBottom) * (1 - i / 4.0);
    s += "<line x1='" + num(kLeft) + "' x2='" + num(kW - kRight) + "' y1='" + num(y) + "' y2='" + num(y) +
         "' stroke='#ddd'/><text x='" + num(kLeft - 4) + "' y='" + num(y + 4) + "' text-anchor='end'>" +
         num(ymax * i / 4) + "</text>";
  }
  s += "<text x='12' y='" + num(kTop + (kH - kTop - kBottom) / 2) + "' transform='rotate(-90 12 " +
       num(kTop + (kH - kTop - kBottom) / 2) + ")' text-anchor='middle'>" + esc(unit) + "</text>";
  return s;
}

std::string line_chart(const std::string& title, const std::vector<double>& x, const std::vector<Series>& series,
                       const std::string& unit) {
  double ymax = 0, xmax = 0;
  for (const auto& s : series)
    for (double v : s.y) ymax = std::max(ymax, v);
  for (double v : x) xmax = std::max(xmax, v);
  ymax = ymax > 0 ? ymax * 1.1 : 1;
  xmax = xmax > 0 ? xmax : 1;
  std::string out = frame(title, ymax, unit);
  const double pw = kW - kLeft - kRight, ph = kH - kTop - kBottom;
  for (int i = 0; i <= 5; ++i)
    out += "<text x='" + num(kLeft + pw * i / 5) + "' y='" + num(kH - kBottom + 14) + "' text-anchor='middle'>" +
           num(xmax * i / 5) + " s</text>";
  double lx = kLeft + 8;
  for (const auto& s : series) {
    std::string pts;
    for (std::size_t i = 0; i < s.y.size() && i < x.size(); ++i)
      pts += num(kLeft + pw * x[i] / xmax) + "," + num(kTop + ph * (1 - s.y[i] / ymax)) + " ";
    out += "<polyline fill='none' stroke='" + s.color + "' stroke-width='1.5' points='" + pts + "'/>";
    out += "<rect x='" + num(lx) + "' y='" + num(kH - 12) + "' width='10' height='3' fill='" + s.color + "'/><text x='" +
           num(lx + 14) + "' y='" + num(kH - 8) + "'>" + esc(s.name) + "</text>";
    lx += 110;
  }
  return out + "</svg>";
}

// The log-linear buckets regrouped into ~40 bins of equal width on a log scale.
std::string histogram_chart(const json& buckets) {
  if (buckets.empty()) return "<p>No latency samples.</p>";
  const double lo = std::max(0.001, buckets.front()[0].get<double>());
  const double hi = std::max(lo * 1.01, buckets.back()[1].get<double>());
  constexpr int kBins = 40;
  std::vector<double> counts(kBins, 0);
  const double span = std::log(hi / lo);
  for (const auto& b : buckets) {
    const double v = std::max(lo, (b[0].get<double>() + b[1].get<double>()) / 2);
    const int i = std::clamp(static_cast<int>(std::log(v / lo) / span * kBins), 0, kBins - 1);
    counts[static_cast<std::size_t>(i)] += b[2].get<double>();
  }
  const double cmax = *std::max_element(counts.begin(), counts.end());
  std::string out = frame("Latency histogram (log scale, " + num(lo) + " - " + num(hi) + " ms)", cmax * 1.1, "samples");
  const double pw = kW - kLeft - kRight, ph = kH - kTop - kBottom, bw = pw / kBins;
  for (int i = 0; i < kBins; ++i) {
    const double h = ph * counts[static_cast<std::size_t>(i)] / (cmax * 1.1);
    const double from = lo * std::exp(span * i / kBins), to = lo * std::exp(span * (i + 1) / kBins);
    out += "<rect x='" + num(kLeft + bw * i + 1) + "' y='" + num(kTop + ph - h) + "' width='" + num(bw - 2) +
           "' height='" + num(h) + "' fill='#4a7bd0'><title>" + num(from) + "-" + num(to) + " ms: " +
           num(counts[static_cast<std::size_t>(i)]) + "</title></rect>";
  }
  for (int i = 0; i <= 4; ++i)
    out += "<text x='" + num(kLeft + pw * i / 4) + "' y='" + num(kH - kBottom + 14) + "' text-anchor='middle'>" +
           num(lo * std::exp(span * i / 4)) + " ms</text>";
  return out + "</svg>";
}

std::string table(const json& obj) {
  std::string out = "<table>";
  for (const auto& [k, v] : obj.items())
    if (!v.is_object() && !(v.is_array() && v.size() > 16))
      out += "<tr><th>" + esc(k) + "</th><td>" + esc(v.is_string() ? v.get<std::string>() : v.dump()) + "</td></tr>";
  return out + "</table>";
}

}  // namespace

std::string render_html(const json& r) {
  std::vector<double> x;
  Series p50{"p50", "#2a9d8f", {}}, p95{"p95", "#e9c46a", {}}, p99{"p99", "#e76f51", {}};
  Series conn{"connected", "#264653", {}}, in{"received/s", "#4a7bd0", {}}, outs{"sent/s", "#e76f51", {}};
  for (const auto& p : r["timeline"]) {
    x.push_back(p["t_s"].get<double>());
    p50.y.push_back(p["p50_ms"].get<double>());
    p95.y.push_back(p["p95_ms"].get<double>());
    p99.y.push_back(p["p99_ms"].get<double>());
    conn.y.push_back(p["connected"].get<double>());
    in.y.push_back(p["msgs_in_per_s"].get<double>());
    outs.y.push_back(p["msgs_out_per_s"].get<double>());
  }
  const bool passed = r.value("verdict", "") == "passed";
  std::string h =
      "<!doctype html><html><head><meta charset='utf-8'><title>mtown loadtest report</title><style>"
      "body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0 16px}"
      "th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:13px}th{background:#f4f4f4}"
      ".pass{color:#1b7f3b}.fail{color:#b3261e}svg{display:block;margin:12px 0}</style></head><body>";
  h += "<h1>mtown loadtest <span class='" + std::string(passed ? "pass" : "fail") + "'>" +
       esc(r.value("verdict", "")) + "</span></h1>";
  h += "<p>" + esc(r.value("started_at", "")) + " &middot; " + esc(r["server"].value("target", "")) + " &middot; " +
       esc(r["server"].value("version", "")) + "</p>";
  h += "<h2>Thresholds</h2><table><tr><th>threshold</th><th>verdict</th><th>detail</th></tr>";
  for (const auto& v : r["thresholds"])
    h += "<tr><td>" + esc(v.value("threshold", "")) + "</td><td class='" + (v.value("passed", false) ? "pass'>pass" : "fail'>FAIL") +
         "</td><td>" + esc(v.value("detail", "")) + "</td></tr>";
  h += "</table>";
  for (const auto& w : r["warnings"]) h += "<p class='fail'>warning: " + esc(w.get<std::string>()) + "</p>";
  h += line_chart("Latency over time (per second)", x, {p50, p95, p99}, "ms");
  h += histogram_chart(r["latency"]["buckets"]);
  h += line_chart("Connections", x, {conn}, "bots");
  h += line_chart("Message rate", x, {in, outs}, "messages/s");
  h += "<h2>Latency</h2>" + table(r["latency"]);
  for (const char* k : {"arena", "party", "idle", "churn", "sequence", "totals", "errors", "metrics_cross_check",
                        "generator", "server", "bots"})
    h += "<h2>" + std::string(k) + "</h2>" + table(r[k]);
  if (r["bots"]["planned"].contains("churn")) h += "<h2>churn: resume time</h2>" + table(r["churn"]["resume"]);
  h += "<h2>Configuration</h2>" + table(r["config"]);
  return h + "</body></html>\n";
}

}  // namespace mtown::loadtest
