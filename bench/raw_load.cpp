// raw_load: the raw-socket read loop that bench/raw_floor is driven by, and the floor the
// load generator is compared with (bench/arena_vs_floor.sh). N TCP clients, no WebSocket,
// no JSON: each sends a length-prefixed input frame (u32 length, u64 seq, padding) on
// loadtest's fixed InputSchedule and reads raw_floor's frames (u32 length, u64 the last
// input seq it read), taking latency from each input's due time into loadtest's
// Histogram. It reads as `mtown loadtest` does: through the io_uring RecvRing where the
// kernel allows, else with Asio (--read picks). One io_context on one thread; loopback
// only; bounded by --duration.
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <chrono>
#include <cstring>
#include <deque>
#include <iostream>
#include <memory>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "mtown/loadtest/histogram.hpp"
#include "mtown/loadtest/input_schedule.hpp"
#include "mtown/core/recv_ring.hpp"
#include "server_probe.hpp"  // loadtest's process_cpu_seconds (loadtest/src)

namespace net = boost::asio;
using tcp = net::ip::tcp;
using mtown::loadtest::Clock;
using mtown::loadtest::Histogram;
using mtown::loadtest::InputSchedule;

namespace {

constexpr std::size_t kHeaderBytes = 12;

struct Options {
  unsigned short port = 0;
  int clients = 400;
  double duration_s = 20, warmup_s = 3, input_hz = 20;
  std::size_t input_bytes = 96;  // about the WebSocket input frame of `mtown loadtest`
  int server_pid = 0;            // raw_floor's, to measure its CPU over the same window
  std::string read = "auto";     // auto: loadtest's RecvRing where it opens, else Asio; uring; asio
};

struct Totals {
  Clock::time_point start = Clock::time_point::max(), end = Clock::time_point::max();
  bool in(Clock::time_point t) const { return t >= start && t < end; }
  std::uint64_t frames = 0, bytes = 0, inputs = 0, unacked = 0, failed = 0;
  Histogram latency_us;
  std::vector<double> rate;
};

class RawClient : public std::enable_shared_from_this<RawClient>, public mtown::core::RecvRing::Reader {
 public:
  RawClient(net::io_context& ioc, const Options& o, Totals& t, int index, mtown::core::RecvRing* ring)
      : o_(o), t_(t), sock_(ioc), timer_(ioc), rng_(static_cast<std::uint64_t>(index)), ring_(ring) {}

  void start(const tcp::endpoint& ep) {
    sock_.async_connect(ep, [self = shared_from_this()](boost::system::error_code ec) {
      if (ec) return void(++self->t_.failed);
      self->sock_.set_option(tcp::no_delay(true));
      const auto period = std::chrono::duration<double>(1.0 / self->o_.input_hz);
      self->schedule_.start(self->o_.input_hz,
                            Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                               period * std::uniform_real_distribution<>(0, 1)(self->rng_)));
      self->arm();
      if (!self->ring_ || !self->ring_->watch(self->sock_.native_handle(), self->weak_from_this())) self->do_read();
    });
  }
  void finish() {
    schedule_.stop([&](Clock::time_point due) { t_.unacked += t_.in(due); });
    t_.rate.push_back(static_cast<double>(in_window_) / o_.duration_s);
  }
  void close() {
    if (ring_) ring_->unwatch(sock_.native_handle());
    boost::system::error_code ignored;
    sock_.close(ignored);
  }

 private:
  void arm() {
    timer_.expires_at(schedule_.next_due());
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->on_timer();
    });
  }
  void on_timer() {
    const auto now = Clock::now();
    std::uint64_t seq;
    Clock::time_point due;
    schedule_.begin_burst();
    while (schedule_.take_due(now, seq, due)) {
      std::string frame(std::max(kHeaderBytes, o_.input_bytes), '\0');
      const auto len = static_cast<std::uint32_t>(frame.size());
      std::memcpy(frame.data(), &len, 4);
      std::memcpy(frame.data() + 4, &seq, 8);
      out_.push_back(std::move(frame));
      t_.inputs += t_.in(due);
    }
    schedule_.skip_behind(now, [&](Clock::time_point d) { t_.unacked += t_.in(d), t_.inputs += t_.in(d); });
    if (!writing_ && !out_.empty()) do_write();
    arm();
  }
  void do_write() {
    writing_ = true;
    net::async_write(sock_, net::buffer(out_.front()), [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
      self->writing_ = false;
      self->out_.pop_front();
      if (!ec && !self->out_.empty()) self->do_write();
    });
  }
  void do_read() {
    sock_.async_read_some(net::buffer(buf_.data() + have_, buf_.size() - have_),
                          [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                            if (ec) return;
                            self->have_ += n;
                            self->parse();
                            self->do_read();
                          });
  }
  void on_bytes(const char* data, std::size_t n) override {
    if (buf_.size() - have_ < n) buf_.resize(have_ + n);
    std::memcpy(buf_.data() + have_, data, n);
    have_ += n;
    parse();
  }
  void on_read_end(int) override {}
  void parse() {
    const auto now = Clock::now();
    std::size_t at = 0;
    while (have_ - at >= kHeaderBytes) {
      std::uint32_t len = 0;
      std::uint64_t seq = 0;
      std::memcpy(&len, buf_.data() + at, 4);
      if (len < kHeaderBytes || len > buf_.size()) return close();
      if (have_ - at < len) break;
      std::memcpy(&seq, buf_.data() + at + 4, 8);
      if (t_.in(now)) ++t_.frames, t_.bytes += len, ++in_window_;
      schedule_.ack(seq, [&](Clock::time_point due) {
        if (t_.in(due))
          t_.latency_us.record(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(now - due).count()));
      });
      at += len;
    }
    std::memmove(buf_.data(), buf_.data() + at, have_ - at);
    have_ -= at;
  }

  const Options& o_;
  Totals& t_;
  tcp::socket sock_;
  net::steady_timer timer_;
  std::mt19937_64 rng_;
  InputSchedule schedule_;
  std::vector<char> buf_ = std::vector<char>(64 * 1024);
  std::size_t have_ = 0;
  std::deque<std::string> out_;
  bool writing_ = false;
  std::uint64_t in_window_ = 0;
  mtown::core::RecvRing* ring_;
};

double cpu_s() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--port") o.port = static_cast<unsigned short>(std::stoi(v));
    else if (a == "--clients") o.clients = std::stoi(v);
    else if (a == "--duration") o.duration_s = std::stod(v);
    else if (a == "--warmup") o.warmup_s = std::stod(v);
    else if (a == "--input-hz") o.input_hz = std::stod(v);
    else if (a == "--input-bytes") o.input_bytes = std::stoul(v);
    else if (a == "--server-pid") o.server_pid = std::stoi(v);
    else if (a == "--read" && (v == "auto" || v == "uring" || v == "asio")) o.read = v;
    else return std::cerr << "usage: raw_load --port P [--clients N] [--duration S] [--warmup S] [--input-hz HZ] [--input-bytes B] [--server-pid PID] [--read auto|asio|uring]\n", 2;
  }
  if (o.port == 0 || o.clients < 1 || o.input_hz <= 0 || o.duration_s <= 0) return std::cerr << "raw_load: need --port\n", 2;
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);

  net::io_context ioc{1};
  std::unique_ptr<mtown::core::RecvRing> ring;
  // The generator reads through the same ring where the kernel allows (core/include/mtown/core/recv_ring.hpp).
  if (o.read != "asio") ring = mtown::core::RecvRing::open(ioc);
  if (o.read == "uring" && !ring) return std::cerr << "raw_load: no io_uring multishot receive here\n", 1;
  Totals t;
  std::vector<std::shared_ptr<RawClient>> clients;
  const tcp::endpoint ep(net::ip::make_address("127.0.0.1"), o.port);
  for (int i = 0; i < o.clients; ++i) {
    clients.push_back(std::make_shared<RawClient>(ioc, o, t, i, ring.get()));
    clients.back()->start(ep);
  }
  const auto seconds = [](double s) { return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s)); };
  // The totals are touched only by the io thread; the window is fixed before it runs.
  t.start = Clock::now() + seconds(o.warmup_s);
  t.end = t.start + seconds(o.duration_s);
  double cpu0 = 0, cpu1 = 0, server0 = 0, server1 = 0;
  net::steady_timer mark(ioc);
  mark.expires_at(t.start);
  mark.async_wait([&](auto) {
    cpu0 = cpu_s();
    if (o.server_pid > 0) server0 = mtown::loadtest::process_cpu_seconds(o.server_pid);
    mark.expires_at(t.end);
    mark.async_wait([&](auto) {
      cpu1 = cpu_s();
      if (o.server_pid > 0) server1 = mtown::loadtest::process_cpu_seconds(o.server_pid);
      mark.expires_at(t.end + std::chrono::seconds(1));  // acks of inputs due near the end
      mark.async_wait([&](auto) {
        for (auto& c : clients) c->finish(), c->close();
        ioc.stop();
      });
    });
  });
  ioc.run();
  double rate_sum = 0;
  for (double r : t.rate) rate_sum += r;
  const double frames = static_cast<double>(std::max<std::uint64_t>(1, t.frames));
  const auto ms = [](std::uint64_t us) { return static_cast<double>(us) / 1000.0; };
  nlohmann::json report{
      {"clients", o.clients}, {"failed", t.failed}, {"reads", ring ? "io_uring" : "asio"}, {"duration_s", o.duration_s}, {"input_hz", o.input_hz},
      {"frames", t.frames}, {"bytes", t.bytes}, {"inputs", t.inputs}, {"unacked", t.unacked},
      {"frames_per_client_per_s", t.rate.empty() ? 0 : rate_sum / static_cast<double>(t.rate.size())},
      {"latency_ms", {{"p50", ms(t.latency_us.percentile(0.5))}, {"p95", ms(t.latency_us.percentile(0.95))},
                      {"p99", ms(t.latency_us.percentile(0.99))}, {"count", t.latency_us.count()}}},
      {"cpu_s", cpu1 - cpu0}, {"cpu_share", (cpu1 - cpu0) / o.duration_s},
      {"cpu_us_per_frame", (cpu1 - cpu0) * 1e6 / frames},
      {"server_cpu_share", (server1 - server0) / o.duration_s},
      {"server_cpu_us_per_frame", (server1 - server0) * 1e6 / frames}};
  std::cout << report.dump(2) << std::endl;
  return t.failed == 0 ? 0 : 1;
}
