#include "mtown/core/recv_ring.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cerrno>
#include <cstdint>
#include <unordered_map>
#include <vector>

#ifdef MTOWN_HAVE_LIBURING
#include <liburing.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

namespace mtown::core {

#ifdef MTOWN_HAVE_LIBURING

namespace {

constexpr unsigned kSqEntries = 256;
constexpr unsigned kCqEntries = 16384;  // a burst of completions from every socket fits
constexpr unsigned kBuffers = 4096;     // a power of two (the buffer ring's size)
constexpr std::size_t kBufferBytes = 2048;
constexpr int kGroup = 0;
constexpr std::uint64_t kNoReader = 0;  // the user_data of cancels and of the probe
constexpr int kBatchesPerTurn = 4;      // of 256 completions each (turn())

// user_data of a socket's receive: the watch's generation and the descriptor, so that the
// completions of a receive cancelled (or of a descriptor reused) are told from the new one's.
std::uint64_t tag(std::uint32_t generation, int fd) {
  return (std::uint64_t{generation} << 32) | static_cast<std::uint32_t>(fd);
}
int fd_of(std::uint64_t t) { return static_cast<int>(static_cast<std::uint32_t>(t)); }

}  // namespace

struct RecvRing::Impl {
  struct Watch {
    std::uint64_t tag;
    std::weak_ptr<Reader> reader;
    bool stopping = false;  // stop(): cancelled, its last bytes still to come
  };

  ::io_uring ring{};
  ::io_uring_buf_ring* buffers_ring = nullptr;
  std::vector<char> buffers = std::vector<char>(std::size_t{kBuffers} * kBufferBytes);
  unsigned returned = 0;  // buffers given back since the last advance
  std::unordered_map<int, Watch> watches;
  std::uint32_t generation = 0;
  boost::asio::posix::stream_descriptor events;
  bool ring_ready = false;
  std::shared_ptr<int> alive = std::make_shared<int>();  // for the turns posted (turn())

  explicit Impl(boost::asio::io_context& ioc) : events(ioc) {}
  ~Impl() {
    if (events.is_open()) events.release();  // the descriptor is the ring's; queue_exit closes it
    if (ring_ready) {
      // Every receive is cancelled here, in the submit, before the buffers they write into
      // are freed: the ring's own teardown runs later, in the kernel's time.
      cancel(0);
      ::io_uring_queue_exit(&ring);
    }
    if (buffers_ring) ::munmap(buffers_ring, sizeof(::io_uring_buf) * kBuffers);
  }

  bool setup() {
    ::io_uring_params params{};
    // One thread submits and reaps. COOP_TASKRUN spares a running thread an interrupt per
    // completion; a thread asleep in epoll_wait is still woken (EINTR) to run the receive.
    params.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN |
                   IORING_SETUP_TASKRUN_FLAG;
    params.cq_entries = kCqEntries;
    if (::io_uring_queue_init_params(kSqEntries, &ring, &params) != 0) return false;
    ring_ready = true;
    void* mem = ::mmap(nullptr, sizeof(::io_uring_buf) * kBuffers, PROT_READ | PROT_WRITE,
                       MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (mem == MAP_FAILED) return false;
    buffers_ring = static_cast<::io_uring_buf_ring*>(mem);
    ::io_uring_buf_ring_init(buffers_ring);
    ::io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<std::uint64_t>(mem);
    reg.ring_entries = kBuffers;
    reg.bgid = kGroup;
    if (::io_uring_register_buf_ring(&ring, &reg, 0) != 0) return false;  // before 5.19
    for (unsigned id = 0; id < kBuffers; ++id) give_back(static_cast<std::uint16_t>(id));
    advance();
    return multishot_works();
  }

  // Multishot receive came in 6.0 and has no probe bit: receive one byte on a socketpair.
  bool multishot_works() {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return false;
    arm(pair[0], kNoReader);
    ::io_uring_submit(&ring);
    bool ok = false;
    if (::write(pair[1], "x", 1) == 1) {
      ::io_uring_cqe* cqe = nullptr;
      if (::io_uring_wait_cqe(&ring, &cqe) == 0) {
        ok = cqe->res == 1 && (cqe->flags & IORING_CQE_F_MORE);
        buffer_of(*cqe);
        ::io_uring_cqe_seen(&ring, cqe);
      }
    }
    ::close(pair[1]);  // the receive ends with the stream (res 0 or an error): reaped by drain
    ::close(pair[0]);
    advance();
    return ok;
  }

  ::io_uring_sqe* sqe() {
    ::io_uring_sqe* s = ::io_uring_get_sqe(&ring);
    if (!s) {
      ::io_uring_submit(&ring);
      s = ::io_uring_get_sqe(&ring);
    }
    return s;
  }

  bool arm(int fd, std::uint64_t t) {
    ::io_uring_sqe* s = sqe();
    if (!s) return false;
    ::io_uring_prep_recv_multishot(s, fd, nullptr, 0, 0);
    s->flags |= IOSQE_BUFFER_SELECT;
    s->buf_group = kGroup;
    s->user_data = t;
    return true;
  }

  // The bytes of a completion that received into a buffer (null if none). The buffer goes
  // back to the ring at once: the kernel reuses it only after advance(), once the batch
  // that holds the completion is handled.
  const char* buffer_of(const ::io_uring_cqe& cqe) {
    if (!(cqe.flags & IORING_CQE_F_BUFFER)) return nullptr;
    const auto id = static_cast<std::uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
    give_back(id);
    return buffers.data() + std::size_t{id} * kBufferBytes;
  }

  void give_back(std::uint16_t id) {
    ::io_uring_buf_ring_add(buffers_ring, buffers.data() + std::size_t{id} * kBufferBytes, kBufferBytes, id,
                            ::io_uring_buf_ring_mask(kBuffers), static_cast<int>(returned++));
  }
  void advance() {
    if (returned) ::io_uring_buf_ring_advance(buffers_ring, static_cast<int>(returned));
    returned = 0;
  }

  void wait() {
    events.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                      [this, alive = std::weak_ptr<int>(alive)](boost::system::error_code ec) {
                        if (ec || alive.expired()) return;  // the ring is going away
                        turn();
                      });
  }

  // Readers may run inline from here and make system calls, which post more completions:
  // a flood of them must not keep the io_context's timers, accepts and writes waiting. A
  // turn takes a few batches, and if there may be more the next turn is posted behind them.
  void turn() {
    if (!drain(kBatchesPerTurn)) return wait();
    boost::asio::post(events.get_executor(), [this, alive = std::weak_ptr<int>(alive)] {
      if (!alive.expired()) turn();
    });
  }

  // True: it stopped after max_batches full batches, and more may be waiting.
  bool drain(int max_batches) {
    ::io_uring_cqe* cqes[256];
    for (int batch = 0; batch < max_batches; ++batch) {
      // Runs pending task work (IORING_SQ_TASKRUN) and takes overflowed completions first.
      const unsigned n = ::io_uring_peek_batch_cqe(&ring, cqes, 256);
      for (unsigned i = 0; i < n; ++i) complete(*cqes[i]);
      ::io_uring_cq_advance(&ring, n);
      advance();
      if (::io_uring_sq_ready(&ring)) ::io_uring_submit(&ring);
      if (n < 256) return false;
    }
    return true;
  }

  // Cancels a receive, or every one (tag 0). Should the submission fail, the cancel is
  // made synchronously: a receive left running would hold its socket open after close.
  void cancel(std::uint64_t t) {
    const int flags = t == 0 ? IORING_ASYNC_CANCEL_ANY : 0;
    if (::io_uring_sqe* s = sqe()) {
      ::io_uring_prep_cancel64(s, t, flags);
      s->user_data = kNoReader;
      if (::io_uring_submit(&ring) >= 0) return;
    }
    ::io_uring_sync_cancel_reg reg{};
    reg.addr = t;
    reg.flags = static_cast<std::uint32_t>(flags);
    reg.timeout.tv_sec = -1;
    reg.timeout.tv_nsec = -1;
    ::io_uring_register_sync_cancel(&ring, &reg);
  }

  void complete(const ::io_uring_cqe& cqe) {
    const bool more = cqe.flags & IORING_CQE_F_MORE;
    const char* data = buffer_of(cqe);
    if (cqe.user_data == kNoReader) return;
    const int fd = fd_of(cqe.user_data);
    auto it = watches.find(fd);
    if (it == watches.end() || it->second.tag != cqe.user_data) return;  // cancelled
    auto reader = it->second.reader.lock();
    if (cqe.res > 0 && reader) reader->on_bytes(data, static_cast<std::size_t>(cqe.res));
    if (more) return;
    // The receive is over. The reader may have unwatched meanwhile.
    it = watches.find(fd);
    if (it == watches.end() || it->second.tag != cqe.user_data) return;
    // Bytes without more: the completion queue overflowed. ENOBUFS: every buffer was in
    // flight; this batch gives them back. Either way the stream goes on, unless stopped.
    const bool goes_on = cqe.res > 0 || cqe.res == -ENOBUFS;
    if (goes_on && !it->second.stopping) {
      arm(fd, cqe.user_data);
      return;
    }
    watches.erase(it);
    if (reader) reader->on_read_end(goes_on ? ECANCELED : cqe.res == 0 ? 0 : -cqe.res);
  }
};

std::unique_ptr<RecvRing> RecvRing::open(boost::asio::io_context& ioc) {
  auto impl = std::make_unique<Impl>(ioc);
  if (!impl->setup()) return nullptr;
  boost::system::error_code ec;
  impl->events.assign(impl->ring.ring_fd, ec);
  if (ec) return nullptr;
  impl->drain(kBatchesPerTurn);  // the probe's end
  impl->wait();
  return std::unique_ptr<RecvRing>(new RecvRing(std::move(impl)));
}

bool RecvRing::watch(int fd, std::weak_ptr<Reader> reader) {
  const std::uint64_t t = tag(++impl_->generation, fd);
  if (t == kNoReader || !impl_->arm(fd, t)) return false;
  impl_->watches[fd] = Impl::Watch{t, std::move(reader)};
  ::io_uring_submit(&impl_->ring);
  return true;
}

void RecvRing::unwatch(int fd) {
  const auto it = impl_->watches.find(fd);
  if (it == impl_->watches.end()) return;
  const std::uint64_t t = it->second.tag;
  impl_->watches.erase(it);
  impl_->cancel(t);  // the receive lets go of the socket before it is closed
}

void RecvRing::stop(int fd) {
  const auto it = impl_->watches.find(fd);
  if (it == impl_->watches.end() || it->second.stopping) return;
  it->second.stopping = true;
  impl_->cancel(it->second.tag);
}

void RecvRing::end_all(int error) {
  auto ended = std::move(impl_->watches);
  impl_->watches.clear();
  impl_->cancel(0);
  for (auto& [fd, watch] : ended)
    if (auto reader = watch.reader.lock()) reader->on_read_end(error);
}

std::size_t RecvRing::watched() const { return impl_->watches.size(); }

#else  // no liburing: open() says so, and readers use their reactor

struct RecvRing::Impl {};
std::unique_ptr<RecvRing> RecvRing::open(boost::asio::io_context&) { return nullptr; }
bool RecvRing::watch(int, std::weak_ptr<Reader>) { return false; }
void RecvRing::unwatch(int) {}
void RecvRing::stop(int) {}
void RecvRing::end_all(int) {}
std::size_t RecvRing::watched() const { return 0; }

#endif

RecvRing::RecvRing(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RecvRing::~RecvRing() = default;

}  // namespace mtown::core
