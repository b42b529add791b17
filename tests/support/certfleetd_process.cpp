#include "tests/support/certfleetd_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "control/client.hpp"
#include "storage/store.hpp"
#include "tests/support/time_scale.hpp"

namespace certfleet::testing {

namespace {
const std::string daemon_binary = CERTFLEETD_BINARY;
const std::string cli_binary = CERTFLEET_BINARY;
}  // namespace

certfleetd_process::certfleetd_process(const pebble_harness& pebble,
                                       const std::vector<std::string>& domains,
                                       const std::string& extra_conf,
                                       const std::string& directory_url,
                                       const std::string& listen_host)
    : conf_(dir_.path() / "conf"), state_(dir_.path() / "state"), domain_count_(domains.size()) {
  std::filesystem::create_directories(conf_);
  const std::string port = std::to_string(pebble.http01_port());
  std::ofstream(conf_ / "certfleet.conf")
      << "lets_encrypt_agree_to_terms_of_service yes\n"
      << "lets_encrypt_registration_email ops@example.com\n"
      << "acme_directory_url " << (directory_url.empty() ? pebble.directory_url() : directory_url)
      << "\n"
      << "acme_ca_bundle " << pebble.ca_bundle() << "\n"
      << "http_listen " << listen_host << ":" << port << "\n"
      << "self_check_port " << port << "\n"
      << "dns_servers " << pebble.dns_server() << "\n"
      << "state_dir " << state_.string() << "\n"
      << extra_conf;
  std::ofstream urls(conf_ / "url_domains");
  for (const auto& d : domains) urls << d << "\n";
  if (!domains.empty()) std::ofstream(conf_ / "me") << domains.front() << "\n";
}

certfleetd_process::~certfleetd_process() {
  if (running()) kill9();
  // Every e2e run doubles as a check that no key reaches the log (hardening issue #17).
  if (log().find("PRIVATE KEY") != std::string::npos)
    ADD_FAILURE() << "certfleetd logged key material:\n" << log();
}

void certfleetd_process::spawn(const std::vector<std::string>& extra_args) {
  std::vector<std::string> args{daemon_binary, "--config-dir", conf_.string()};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    const int log =
        ::open((dir_.path() / "certfleetd.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    ::dup2(log, 2);
    // Only what the daemon opens itself may show up in inheritable_descriptors().
    ::close_range(3, ~0U, 0);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
}

cli_result certfleetd_process::start_expecting_refusal(const std::vector<std::string>& extra_args) {
  const auto logged_before = log().size();
  spawn(extra_args);
  cli_result r;
  int status = 0;
  for (int i = 0; i < 200 && pid_ > 0; ++i) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  if (pid_ > 0) kill9();  // it started after all: exit_code stays -1
  r.out = log().substr(logged_before);
  return r;
}

void certfleetd_process::start(const std::vector<std::string>& extra_args) {
  spawn(extra_args);
  // Ready when this daemon answers a ping: a control.sock left by a killed one does not
  // answer, and a test that signals the daemon before it set up its handlers would kill it.
  const bool up = wait_until(
      [&] {
        auto answer =
            control::ask(state_ / "control.sock", control::ping_request{}, std::chrono::seconds(5));
        return answer && std::holds_alternative<control::ping_response>(*answer);
      },
      std::chrono::seconds(20));
  if (!up || !running()) throw std::runtime_error("certfleetd did not start:\n" + log());
}

bool certfleetd_process::running() const {
  if (pid_ <= 0) return false;
  int status = 0;
  return ::waitpid(pid_, &status, WNOHANG) == 0;
}

void certfleetd_process::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void certfleetd_process::sighup() const {
  if (pid_ > 0) ::kill(pid_, SIGHUP);
}

void certfleetd_process::freeze(bool frozen) const {
  if (pid_ > 0) ::kill(pid_, frozen ? SIGSTOP : SIGCONT);
}

int certfleetd_process::stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  const int polls = static_cast<int>(100 * time_scale());
  for (int i = 0; i < polls; ++i) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  kill9();
  return -1;
}

cli_result certfleetd_process::cli(const std::string& args) const {
  const std::string cmd = cli_binary + " --config-dir " + conf_.string() + " " + args + " 2>&1";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot run " + cmd);
  cli_result r;
  char buf[65536];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) r.out.append(buf, n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::vector<storage::domain_record> certfleetd_process::records() const {
  auto store = storage::store::open(state_, storage::open_mode::read_only);
  if (!store) return {};
  auto list = store->list_domains();
  return list ? *list : std::vector<storage::domain_record>{};
}

bool certfleetd_process::wait_until(const std::function<bool()>& pred,
                                    std::chrono::seconds limit) const {
  const auto deadline = std::chrono::steady_clock::now() + scaled(limit);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return pred();
}

std::string certfleetd_process::stored_serial(const std::string& domain) const {
  auto store = storage::store::open(state_, storage::open_mode::read_only);
  if (!store) return "(no store: " + store.err().detail + ")";
  auto certs = store->get_certs(domain);
  return certs && *certs ? (*certs)->current.serial : "(none stored)";
}

bool certfleetd_process::all_issued() const {
  std::size_t issued = 0;
  for (const auto& r : records())
    if (r.configured && r.has_cert()) ++issued;
  return issued == domain_count_;
}

long certfleetd_process::running_domains() const {
  auto answer =
      control::ask(state_ / "control.sock", control::ping_request{}, std::chrono::seconds(5));
  if (!answer) return -1;
  const auto* ping = std::get_if<control::ping_response>(&*answer);
  return ping ? static_cast<long>(ping->domains) : -1;
}

std::vector<std::string> certfleetd_process::inheritable_descriptors() const {
  std::vector<std::string> found;
  const auto proc = std::filesystem::path("/proc") / std::to_string(pid_);
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(proc / "fd", ec)) {
    const std::string fd = entry.path().filename();
    if (std::stoi(fd) <= 2) continue;
    std::ifstream info(proc / "fdinfo" / fd);
    std::string key, flags;
    while (info >> key >> flags && key != "flags:") continue;
    // fdinfo's flags are octal open flags; O_CLOEXEC is 02000000.
    if (key == "flags:" && (std::stoul(flags, nullptr, 8) & O_CLOEXEC) == 0)
      found.push_back(fd + " -> " + std::filesystem::read_symlink(entry.path(), ec).string());
  }
  return found;
}

std::string certfleetd_process::log() const {
  std::ifstream in(dir_.path() / "certfleetd.log");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace certfleet::testing
