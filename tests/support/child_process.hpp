// For the processes tests fork (servers, Redis, PostgreSQL): they die with the test. A test
// killed mid-run (Ctrl-C, a ctest timeout) would otherwise leave them running, a paused
// Redis among them, holding ports and CPU for every test after it.
#pragma once
#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>

namespace mtown::test {

// Call in the child between fork() and exec(), with the parent's pid read before fork().
// PR_SET_PDEATHSIG survives exec (not a change of user: see OwnPostgres), and the getppid
// check covers a parent that died before the prctl. The signal comes when the thread that
// forked ends, so fork from a thread that outlives the child (the test's own).
inline void die_with_parent(pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(1);
}

}  // namespace mtown::test
