#include "core/process_guard.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstring>

namespace certfleet {

namespace {

const char* program_name = "certfleet";

void write_all(const char* text) {
  // Only async-signal-safe calls from here on.
  std::size_t left = std::strlen(text);
  while (left > 0) {
    const ssize_t n = ::write(STDERR_FILENO, text, left);
    if (n <= 0) return;
    text += n;
    left -= static_cast<std::size_t>(n);
  }
}

[[maybe_unused]] void on_fatal_signal(int signal) {  // unused in sanitized builds
  write_all(program_name);
  if (signal == SIGBUS)
    write_all(
        ": stopped by SIGBUS: a file it had mapped, most likely the state file data.mdb, became "
        "shorter or unreadable while in use (truncated by another program, or a disk error: "
        "check the kernel log). Restore the state directory from a backup, or move data.mdb "
        "aside and start certfleetd with --new-state.\n");
  else
    write_all(
        ": stopped by SIGSEGV. If the state file data.mdb was damaged, restore it from a "
        "backup; otherwise report this with the log lines above.\n");
  // Die of the same signal, so the exit status and the system log say what happened.
  ::signal(signal, SIG_DFL);
  ::raise(signal);
}

}  // namespace

void keep_memory_private() {
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  const rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
}

void close_on_exec(int fd) {
  if (fd < 0) return;
  const int flags = ::fcntl(fd, F_GETFD);
  if (flags >= 0 && (flags & FD_CLOEXEC) == 0) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

void explain_fatal_signals(const char* program) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // The sanitizers' own SIGSEGV/SIGBUS reports (with the stack) say more than this one.
  (void)program;
#else
  program_name = program;
  struct sigaction action {};
  action.sa_handler = on_fatal_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND;
  ::sigaction(SIGBUS, &action, nullptr);
  ::sigaction(SIGSEGV, &action, nullptr);
#endif
}

}  // namespace certfleet
