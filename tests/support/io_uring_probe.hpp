// Whether this process may use io_uring with multishot receive (kernel 6.0+), asked of the
// kernel directly rather than through the code under test: tests then expect the io_uring
// paths exactly where the machine allows them, and the fallbacks elsewhere (a container
// whose seccomp profile refuses io_uring, kernel.io_uring_disabled, an older kernel).
#pragma once
#include <linux/io_uring.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>

namespace mtown::test {

inline bool io_uring_multishot_recv_usable() {
  utsname u{};
  int major = 0, minor = 0;
  if (::uname(&u) != 0 || std::sscanf(u.release, "%d.%d", &major, &minor) != 2 || major < 6) return false;
  io_uring_params params{};
  const long fd = ::syscall(__NR_io_uring_setup, 4, &params);
  if (fd < 0) return false;
  ::close(static_cast<int>(fd));
  return true;
}

}  // namespace mtown::test
