#include "serving/export_files.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace certfleet::serving {

namespace {

// Temp file in the same directory, fsync, rename: readers see the old or the new file.
result<void> write_atomically(const std::filesystem::path& path, const std::string& data, mode_t mode) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  const std::string tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    return error{error_kind::storage, "cannot write " + tmp + ": " + std::strerror(errno) +
                                          "; check export_dir and its permissions"};
  }
  ::fchmod(fd, mode);  // also when the file existed with other bits
  const bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return error{error_kind::storage, "cannot replace " + path.string() + ": " + std::strerror(errno)};
  }
  return {};
}

}  // namespace

result<void> export_domain(const std::filesystem::path& dir, const std::string& domain,
                           const pem_pair& pair) {
  if (auto r = write_atomically(dir / (domain + ".crt"), pair.chain_pem, 0644); !r) return r;
  if (auto r = write_atomically(dir / (domain + ".key"), pair.key_pem, 0600); !r) return r;
  return write_atomically(dir / (domain + ".pem"), pair.chain_pem + pair.key_pem, 0600);
}

result<void> export_service(const std::filesystem::path& dir, service svc, const pem_pair& pair) {
  return write_atomically(dir / "services" / (std::string(to_string(svc)) + ".pem"),
                          pair.chain_pem + pair.key_pem, 0600);
}

result<void> run_deploy_hook(const std::string& command, const std::vector<std::string>& names,
                             std::chrono::seconds timeout) {
  std::vector<std::string> args{"/bin/sh", "-c", command + " \"$@\"", "deploy_hook"};
  args.insert(args.end(), names.begin(), names.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return error{error_kind::internal, "cannot start the deploy hook: fork failed"};
  if (pid == 0) {
    ::setpgid(0, 0);  // its own group, so a timeout kills its children too
    ::execv("/bin/sh", argv.data());
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return error{error_kind::timeout, "deploy_hook \"" + command + "\" ran longer than " +
                                            std::to_string(timeout.count()) +
                                            " s and was killed; make it faster or raise deploy_hook_timeout"};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  return error{error_kind::internal,
               "deploy_hook \"" + command + "\" failed (" +
                   (WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                      : std::string("killed by a signal")) +
                   "); the certificates were still issued and exported; check the hook"};
}

}  // namespace certfleet::serving
