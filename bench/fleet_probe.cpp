// Waits, bounded, for a running certfleetd to reach a state, and says when it did.
//
//   fleet_probe wait-certs STATE_DIR N TIMEOUT_S [options]
//       reads the daemon's LMDB read-only every 20 ms until N domains have a certificate
//   fleet_probe wait-domains SOCKET N TIMEOUT_S [options]
//       pings the daemon on its control socket (control/) until it runs N domains
// Options:
//   --since UNIX_NS  measure from this CLOCK_REALTIME time in ns (`date +%s%N`), not from now
//   --stall S        give up when the count has not changed for S seconds (e.g. a wedged CA)
//   --pid PID        give up when process PID (the daemon) has gone; cpu_ticks= in the output
//                    is its utime+stime when the count last changed
//
// Prints "elapsed_s=SECONDS count=C at_s=SECONDS" and exits 0; otherwise prints
// "elapsed_s=timeout|stalled|exited count=C at_s=T" and exits 1, where C is the last count seen
// and T when it was first seen (so a run that stalls short of N still gives a rate).
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>
#include <string>
#include <thread>

#include "control/client.hpp"
#include "storage/store.hpp"

using namespace certfleet;

namespace {

std::int64_t realtime_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::optional<std::size_t> count_certs(const std::filesystem::path& state_dir,
                                       std::optional<storage::store>& s) {
  if (!s) {
    auto opened = storage::store::open(state_dir, storage::open_mode::read_only);
    if (!opened) return std::nullopt;  // not created yet by the daemon
    s.emplace(std::move(opened).value());
  }
  std::size_t n = 0;
  auto r = s->for_each_domain([&](const storage::domain_record& d) { n += d.has_cert(); });
  if (!r) {  // e.g. the daemon grew the map: open again next time
    s.reset();
    return std::nullopt;
  }
  return n;
}

// utime+stime of pid in clock ticks (fields 14 and 15 of /proc/PID/stat), or -1.
long cpu_ticks(pid_t pid) {
  if (pid <= 0) return -1;
  std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (!f) return -1;
  char buf[1024];
  const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  const char* p = std::strrchr(buf, ')');  // the command name may contain spaces
  if (!p) return -1;
  long utime = 0, stime = 0;
  // After ")": state (field 3) ... utime is field 14, stime 15.
  if (std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &utime, &stime) !=
      2)
    return -1;
  return utime + stime;
}

std::optional<std::size_t> ping(const std::filesystem::path& socket) {
  auto answer = control::ask(socket, control::ping_request{}, std::chrono::seconds(5));
  if (!answer) return std::nullopt;  // not listening yet
  const auto* pong = std::get_if<control::ping_response>(&*answer);
  if (!pong) return std::nullopt;
  return pong->domains;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr,
                 "usage: fleet_probe wait-certs STATE_DIR N TIMEOUT_S [--since NS]\n"
                 "       fleet_probe wait-domains SOCKET N TIMEOUT_S [--since NS]\n");
    return 2;
  }
  const std::string mode = argv[1];
  const std::filesystem::path path = argv[2];
  const std::size_t want = std::strtoull(argv[3], nullptr, 10);
  const double timeout_s = std::strtod(argv[4], nullptr);
  std::int64_t since = realtime_ns();
  double stall_s = 0;
  pid_t pid = 0;
  for (int i = 5; i + 1 < argc; i += 2) {
    const std::string opt = argv[i];
    if (opt == "--since")
      since = std::strtoll(argv[i + 1], nullptr, 10);
    else if (opt == "--stall")
      stall_s = std::strtod(argv[i + 1], nullptr);
    else if (opt == "--pid")
      pid = static_cast<pid_t>(std::strtol(argv[i + 1], nullptr, 10));
    else {
      std::fprintf(stderr, "fleet_probe: unknown option %s\n", opt.c_str());
      return 2;
    }
  }
  if (mode != "wait-certs" && mode != "wait-domains") {
    std::fprintf(stderr, "fleet_probe: unknown mode %s\n", mode.c_str());
    return 2;
  }

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  const auto interval = std::chrono::milliseconds(mode == "wait-certs" ? 20 : 5);
  std::optional<storage::store> s;
  std::size_t last = 0;
  auto last_change = std::chrono::steady_clock::now();
  std::int64_t last_change_ns = realtime_ns();
  long ticks_at_change = -1;
  const char* outcome = "timeout";
  while (std::chrono::steady_clock::now() < deadline) {
    auto c = mode == "wait-certs" ? count_certs(path, s) : ping(path);
    if (c && *c != last) {
      last = *c;
      last_change = std::chrono::steady_clock::now();
      last_change_ns = realtime_ns();
      ticks_at_change = cpu_ticks(pid);
    }
    if (c && *c == want) {
      const double at = static_cast<double>(realtime_ns() - since) / 1e9;
      std::printf("elapsed_s=%.3f count=%zu at_s=%.3f cpu_ticks=%ld\n", at, *c, at,
                  ticks_at_change);
      return 0;
    }
    if (pid > 0 && ::kill(pid, 0) != 0) {
      outcome = "exited";
      break;
    }
    if (stall_s > 0 &&
        std::chrono::steady_clock::now() - last_change > std::chrono::duration<double>(stall_s)) {
      outcome = "stalled";
      break;
    }
    std::this_thread::sleep_for(interval);
  }
  std::printf("elapsed_s=%s count=%zu at_s=%.3f cpu_ticks=%ld\n", outcome, last,
              static_cast<double>(last_change_ns - since) / 1e9, ticks_at_change);
  std::fprintf(stderr, "fleet_probe: %s: %s with %zu of %zu\n", mode.c_str(), outcome, last, want);
  return 1;
}
