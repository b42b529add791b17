#include "serving/export_files.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "serving/private_dir.hpp"

namespace certfleet::serving {

result<void> export_domain(const std::filesystem::path& dir, const std::string& domain,
                           const pem_pair& pair) {
  auto out = private_dir::open(dir, "export_dir");
  if (!out) return std::move(out).err();
  if (auto r = out->replace_file(domain + ".crt", pair.chain_pem, 0644); !r) return r;
  if (auto r = out->replace_file(domain + ".key", pair.key_pem, 0600); !r) return r;
  return out->replace_file(domain + ".pem", pair.chain_pem + pair.key_pem, 0600);
}

result<bool> export_service(const std::filesystem::path& dir, service svc, const pem_pair& pair) {
  auto out = private_dir::open(dir, "export_dir");
  if (!out) return std::move(out).err();
  auto services = out->subdir("services");
  if (!services) return std::move(services).err();
  const std::string file = std::string(to_string(svc)) + ".pem";
  const std::string content = pair.chain_pem + pair.key_pem;
  if (services->read_file(file) == content) return false;
  if (auto r = services->replace_file(file, content, 0600); !r) return std::move(r).err();
  return true;
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
    // Only stdin, stdout and stderr: an inherited port-80 socket or LMDB descriptor
    // would outlive the daemon in a hook's background process.
    ::close_range(3, ~0U, 0);
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
      return error{error_kind::timeout,
                   "deploy_hook \"" + command + "\" ran longer than " +
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
