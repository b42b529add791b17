#include "core/run_hook.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace certfleet {

namespace {

// The input in an anonymous file at offset 0: a hook that never reads its stdin, or a document
// of many megabytes, cannot block the writer the way a pipe's 64 KiB would.
int input_file(const std::string& input) {
  const int fd = ::memfd_create("certfleet-hook-input", MFD_CLOEXEC);
  if (fd < 0) return -1;
  std::size_t written = 0;
  while (written < input.size()) {
    const ssize_t n = ::write(fd, input.data() + written, input.size() - written);
    if (n <= 0) {
      ::close(fd);
      return -1;
    }
    written += static_cast<std::size_t>(n);
  }
  ::lseek(fd, 0, SEEK_SET);
  return fd;
}

}  // namespace

result<void> run_hook(const hook_command& hook) {
  std::vector<std::string> args{"/bin/sh", "-c", hook.command + " \"$@\"", hook.directive};
  args.insert(args.end(), hook.args.begin(), hook.args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string name = hook.directive + " \"" + hook.command + "\"";

  const int input = input_file(hook.input);
  if (input < 0)
    return error{error_kind::internal, "cannot start " + name +
                                           ": no temporary file for its input (" +
                                           std::string(std::strerror(errno)) + ")"};
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(input);
    return error{error_kind::internal, "cannot start " + name + ": fork failed"};
  }
  if (pid == 0) {
    ::setpgid(0, 0);  // its own group, so a timeout kills its children too
    ::dup2(input, 0);
    // Only stdin, stdout and stderr: an inherited port-80 socket or LMDB descriptor
    // would outlive the daemon in a hook's background process.
    ::close_range(3, ~0U, 0);
    ::execv("/bin/sh", argv.data());
    ::_exit(127);
  }
  ::close(input);
  const auto deadline = std::chrono::steady_clock::now() + hook.timeout;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return error{error_kind::timeout,
                   name + " ran longer than " + std::to_string(hook.timeout.count()) +
                       " s and was killed; make it faster or raise " + hook.directive + "_timeout"};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  return error{error_kind::internal,
               name + " failed (" +
                   (WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                      : std::string("killed by a signal")) +
                   ")"};
}

}  // namespace certfleet
