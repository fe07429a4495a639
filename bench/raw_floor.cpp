// raw_floor: the socket work of an arena server with nothing else. One thread, plain epoll,
// no WebSocket, no JSON: accepts TCP connections on loopback, reads each client's input
// frames, and --hz times a second writes one --msg-bytes frame to every socket (a 12-byte
// header: u32 frame length, u64 the client's last input seq; then a shared payload).
// Driven by bench/raw_load; its CPU per delivered message is the floor for mtown's.
// Stops by itself after --max-seconds, or on SIGINT/SIGTERM; prints a JSON summary.
// --send-batch 1 hands a tick's writes to the kernel in io_uring calls of up to 256 sends
// (server/io_uring_ring.hpp), as `mtown serve --threads 1` does; the floor for that mode.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <unordered_map>
#include <vector>

#include "mtown/server/io_uring_ring.hpp"

namespace {

constexpr std::size_t kHeaderBytes = 12;
constexpr std::size_t kMaxPendingBytes = 1 << 20;  // as mtown's limits.write_queue_max_bytes

volatile std::sig_atomic_t g_stop = 0;

struct Options {
  int port = 0;
  std::size_t msg_bytes = 400;
  int hz = 60;
  int max_seconds = 600;
  bool send_batch = false;
};

struct Conn {
  std::vector<char> in;        // partial input frame
  std::string pending;         // unsent output (only after a short write)
  std::uint64_t last_seq = 0;  // highest input seq read
  char header[kHeaderBytes];   // this tick's, while a batched send reads it
  iovec iov[2];
  msghdr msg;
};

struct Totals {
  std::uint64_t accepted = 0, closed = 0, ticks = 0, frames_out = 0, bytes_out = 0, frames_in = 0, bytes_in = 0;
  std::uint64_t short_writes = 0, slow_closes = 0;
};

class RawFloor {
 public:
  RawFloor(const Options& o) : o_(o), payload_(o.msg_bytes - kHeaderBytes, 'x') {}
  int run();

 private:
  bool listen_on(int port);
  void accept_all();
  void read_from(int fd);
  void flush(int fd);
  void tick();
  void wrote(int fd, Conn& c, ssize_t n, std::vector<int>& dead);
  void close_conn(int fd);
  void want_write(int fd, bool on);

  Options o_;
  std::string payload_;
  int ep_ = -1, listen_fd_ = -1, timer_fd_ = -1;
  std::unordered_map<int, Conn> conns_;
  Totals t_;
};

bool RawFloor::listen_on(int port) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // loopback only
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(listen_fd_, 4096) != 0)
    return false;
  socklen_t len = sizeof addr;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  std::printf("{\"event\":\"listening\",\"port\":%d,\"pid\":%d}\n", ntohs(addr.sin_port), getpid());
  std::fflush(stdout);
  return true;
}

void RawFloor::accept_all() {
  for (;;) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // as mtown's listener
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
    conns_[fd];
    ++t_.accepted;
  }
}

void RawFloor::read_from(int fd) {
  auto& c = conns_[fd];
  char buf[16 * 1024];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return close_conn(fd);
    if (n < 0) break;
    t_.bytes_in += static_cast<std::uint64_t>(n);
    c.in.insert(c.in.end(), buf, buf + n);
    if (static_cast<std::size_t>(n) < sizeof buf) break;
  }
  std::size_t at = 0;
  while (c.in.size() - at >= kHeaderBytes) {
    std::uint32_t len = 0;
    std::memcpy(&len, c.in.data() + at, 4);
    if (len < kHeaderBytes || len > 65536) return close_conn(fd);
    if (c.in.size() - at < len) break;
    std::uint64_t seq = 0;
    std::memcpy(&seq, c.in.data() + at + 4, 8);
    if (seq > c.last_seq) c.last_seq = seq;
    ++t_.frames_in;
    at += len;
  }
  c.in.erase(c.in.begin(), c.in.begin() + static_cast<std::ptrdiff_t>(at));
}

void RawFloor::want_write(int fd, bool on) {
  epoll_event ev{};
  ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
  ev.data.fd = fd;
  epoll_ctl(ep_, EPOLL_CTL_MOD, fd, &ev);
}

void RawFloor::flush(int fd) {
  auto& c = conns_[fd];
  while (!c.pending.empty()) {
    const ssize_t n = write(fd, c.pending.data(), c.pending.size());
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) return close_conn(fd);
    c.pending.erase(0, static_cast<std::size_t>(n));
  }
  want_write(fd, false);
}

// One frame to every socket: a per-connection header and the shared payload, one writev
// each, or with --send-batch one sendmsg each through io_uring, up to 256 per system call.
void RawFloor::tick() {
  ++t_.ticks;
  std::vector<int> dead;
  std::vector<mtown::server::IoUringRing::SendMsg> batch;
  std::vector<int> batch_fds;
  auto* ring = o_.send_batch ? mtown::server::IoUringRing::for_this_thread() : nullptr;
  for (auto& [fd, c] : conns_) {
    const auto len = static_cast<std::uint32_t>(o_.msg_bytes);
    std::memcpy(c.header, &len, 4);
    std::memcpy(c.header + 4, &c.last_seq, 8);
    ++t_.frames_out;
    t_.bytes_out += o_.msg_bytes;
    if (!c.pending.empty()) {  // behind: queue, bounded like mtown's write queue
      if (c.pending.size() + o_.msg_bytes > kMaxPendingBytes) {
        ++t_.slow_closes;
        dead.push_back(fd);
        continue;
      }
      c.pending.append(c.header, kHeaderBytes).append(payload_);
      continue;
    }
    c.iov[0] = {c.header, kHeaderBytes};
    c.iov[1] = {payload_.data(), payload_.size()};
    if (ring) {
      c.msg = msghdr{};
      c.msg.msg_iov = c.iov;
      c.msg.msg_iovlen = 2;
      batch.push_back({fd, &c.msg});
      batch_fds.push_back(fd);
      continue;
    }
    wrote(fd, c, writev(fd, c.iov, 2), dead);
  }
  if (ring) {
    std::vector<int> results(batch.size());
    const std::size_t done = ring->sendmsg_all(batch.data(), results.data(), batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const int fd = batch_fds[i];
      auto& c = conns_[fd];
      if (i >= done) wrote(fd, c, writev(fd, c.iov, 2), dead);
      else if (results[i] >= 0) wrote(fd, c, results[i], dead);
      else {
        errno = -results[i];
        wrote(fd, c, -1, dead);
      }
    }
  }
  for (int fd : dead) close_conn(fd);
}

// What one frame's write did: all of it, some (the rest waits for EPOLLOUT), or an error.
void RawFloor::wrote(int fd, Conn& c, ssize_t n, std::vector<int>& dead) {
  if (n == static_cast<ssize_t>(o_.msg_bytes)) return;
  if (n < 0 && errno != EAGAIN && errno != EINTR) {
    dead.push_back(fd);
    return;
  }
  ++t_.short_writes;
  const std::size_t sent = n < 0 ? 0 : static_cast<std::size_t>(n);
  std::string frame(c.header, kHeaderBytes);
  frame += payload_;
  c.pending = frame.substr(sent);
  want_write(fd, true);
}

void RawFloor::close_conn(int fd) {
  if (!conns_.erase(fd)) return;
  epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr);
  close(fd);
  ++t_.closed;
}

int RawFloor::run() {
  ep_ = epoll_create1(EPOLL_CLOEXEC);
  if (!listen_on(o_.port)) {
    std::fprintf(stderr, "raw_floor: cannot listen on 127.0.0.1:%d: %s\n", o_.port, std::strerror(errno));
    return 1;
  }
  timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  const long period_ns = 1'000'000'000L / o_.hz;
  itimerspec its{{0, period_ns}, {0, period_ns}};
  timerfd_settime(timer_fd_, 0, &its, nullptr);
  for (int fd : {listen_fd_, timer_fd_}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
  }
  const std::time_t deadline = std::time(nullptr) + o_.max_seconds;
  std::vector<epoll_event> events(1024);
  while (!g_stop && std::time(nullptr) < deadline) {
    const int n = epoll_wait(ep_, events.data(), static_cast<int>(events.size()), 200);
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == listen_fd_) {
        accept_all();
      } else if (fd == timer_fd_) {
        std::uint64_t expirations = 0;
        if (read(timer_fd_, &expirations, sizeof expirations) > 0) tick();  // late ticks are dropped, as mtown's
      } else if (conns_.count(fd)) {
        if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) read_from(fd);
        if (conns_.count(fd) && (events[i].events & EPOLLOUT)) flush(fd);
      }
    }
  }
  for (auto it = conns_.begin(); it != conns_.end(); it = conns_.begin()) close_conn(it->first);
  std::printf(
      "{\"event\":\"stopped\",\"accepted\":%llu,\"closed\":%llu,\"ticks\":%llu,\"frames_out\":%llu,\"bytes_out\":%llu,"
      "\"frames_in\":%llu,\"bytes_in\":%llu,\"short_writes\":%llu,\"slow_closes\":%llu}\n",
      (unsigned long long)t_.accepted, (unsigned long long)t_.closed, (unsigned long long)t_.ticks,
      (unsigned long long)t_.frames_out, (unsigned long long)t_.bytes_out, (unsigned long long)t_.frames_in,
      (unsigned long long)t_.bytes_in, (unsigned long long)t_.short_writes, (unsigned long long)t_.slow_closes);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    const long v = std::strtol(argv[i + 1], nullptr, 10);
    if (a == "--port") o.port = static_cast<int>(v);
    else if (a == "--msg-bytes") o.msg_bytes = static_cast<std::size_t>(v);
    else if (a == "--hz") o.hz = static_cast<int>(v);
    else if (a == "--max-seconds") o.max_seconds = static_cast<int>(v);
    else if (a == "--send-batch") o.send_batch = v != 0;
    else {
      std::fprintf(stderr, "usage: raw_floor [--port P] [--msg-bytes B] [--hz 60] [--max-seconds 600] [--send-batch 0|1]\n");
      return 2;
    }
  }
  if (o.msg_bytes < kHeaderBytes || o.msg_bytes > 65536 || o.hz < 1 || o.hz > 1000 || o.max_seconds < 1) {
    std::fprintf(stderr, "raw_floor: need 12 <= --msg-bytes <= 65536, 1 <= --hz <= 1000, --max-seconds >= 1\n");
    return 2;
  }
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  std::signal(SIGINT, [](int) { g_stop = 1; });
  std::signal(SIGTERM, [](int) { g_stop = 1; });
  std::signal(SIGPIPE, SIG_IGN);
  return RawFloor(o).run();
}
