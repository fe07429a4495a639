// A connected pair of non-blocking stream sockets (AF_UNIX) for tests of code that works on
// file descriptors: `ours` for the code under test, `peer` for the test's side.
#pragma once
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <string>

namespace mtown::test {

struct SocketPair {
  int ours = -1, peer = -1;
  SocketPair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0)
      throw std::runtime_error("socketpair failed");
    ours = fds[0];
    peer = fds[1];
  }
  ~SocketPair() {
    if (ours >= 0) ::close(ours);
    if (peer >= 0) ::close(peer);
  }
  SocketPair(const SocketPair&) = delete;
  SocketPair& operator=(const SocketPair&) = delete;

  void close_peer() {
    ::close(peer);
    peer = -1;
  }
  // Everything `ours` sent that has arrived.
  std::string received() const {
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::recv(peer, buf, sizeof buf, 0)) > 0;) out.append(buf, static_cast<std::size_t>(n));
    return out;
  }
  // From the peer to `ours`.
  bool send_from_peer(const std::string& bytes) const {
    return ::send(peer, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
  }
};

}  // namespace mtown::test
