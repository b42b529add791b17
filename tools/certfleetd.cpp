// certfleetd: obtains and renews certificates for every configured domain.
// Signals: SIGHUP reloads the configuration, SIGTERM/SIGINT stop cleanly.
#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "actors/system.hpp"
#include "config/configuration.hpp"
#include "core/log.hpp"
#include "core/process_guard.hpp"
#include "tools/service_notify.hpp"

using namespace certfleet;

#ifdef CERTFLEET_COVERAGE
extern "C" void __gcov_dump();  // libgcov (tools/coverage builds)
#endif

namespace {

// The HTTP-01 and HTTPS listeners may each keep a quarter of the descriptor limit open
// (protocol/net/accept_loop.hpp); the usual soft limit of 1024 would allow only 256
// connections each, so take the hard limit.
void raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  const rlim_t before = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max;
  if (limit.rlim_cur != before && setrlimit(RLIMIT_NOFILE, &limit) != 0) limit.rlim_cur = before;
  std::string line = "certfleetd: descriptor limit " + std::to_string(limit.rlim_cur);
  if (limit.rlim_cur != before) line += " (raised from " + std::to_string(before) + ")";
  log_info(line);
}

}  // namespace

int main(int argc, char** argv) {
  // Before any thread starts. glibc allows up to 8 malloc arenas per core, and each
  // thread that allocates while the 100k domain actors start (CAF workers, the
  // detached exporter, the io threads) fills its own, whose free space no other
  // arena can use. Two arenas: ~40 B less resident memory per domain at 100k
  // domains (one arena measured no better).
  mallopt(M_ARENA_MAX, 2);
  keep_memory_private();
  explain_fatal_signals("certfleetd");
  CLI::App app{
      "certfleetd: obtains and renews TLS certificates over ACME for every configured domain"};
  app.footer(
      "Reads certfleet.conf, me, url_domains and httpd.ssl.listen from the configuration "
      "directory; a bad configuration stops the start with file:line messages (exit 2).\n"
      "SIGHUP reloads the configuration (rejected with the same messages in the log, the last "
      "good one kept); SIGTERM and SIGINT stop cleanly. Logs go to stderr with syslog level "
      "prefixes; under systemd (Type=notify) it reports READY=1 once its listeners are bound.\n"
      "See certfleetd(8), certfleet(1) and the README.");
  app.set_version_flag("--version", std::string("certfleetd ") + CERTFLEET_VERSION);
  std::string config_dir = "/etc/certfleet";
  std::string state_dir;
  std::string log_level = "info";
  std::size_t threads = 2;
  app.add_option("--config-dir", config_dir, "configuration directory")->capture_default_str();
  app.add_option("--state-dir", state_dir,
                 "state directory (overrides state_dir in certfleet.conf)");
  bool new_state = false;
  app.add_flag("--new-state", new_state,
               "begin with an empty state where the state looks lost (data.mdb missing or "
               "empty); every certificate and the ACME account are obtained again");
  app.add_option("--log-level", log_level, "debug, info, warning or error")->capture_default_str();
  app.add_option("--threads", threads, "actor scheduler threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; a usage error 2, as a configuration error (certfleetd(8)).
    return app.exit(e) == 0 ? 0 : 2;
  }

  certfleet::log_level severity;
  if (!parse_log_level(log_level, severity)) {
    std::cerr << "certfleetd: unknown --log-level \"" << log_level
              << "\"; use debug, info, warning or error\n";
    return 2;
  }
  set_log_threshold(severity);
  raise_descriptor_limit();

  // Block the signals before any thread starts, so only sigwait below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGHUP, SIGTERM, SIGINT}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto loaded = config::load_configuration(config_dir);
  if (!loaded.ok()) {
    std::cerr << "certfleetd: the configuration in " << config_dir << " has errors:\n"
              << config::format_diagnostics(loaded.errors);
    return 2;
  }
  for (const auto& w : loaded.warnings) log_warning("config: " + w.to_string());

  actors::daemon_options options;
  options.state_dir = state_dir;
  options.worker_threads = threads;
  options.allow_new_state = new_state;
  auto engine = actors::daemon::start(std::move(*loaded.value), options);
  if (!engine) {
    std::cerr << "certfleetd: " << engine.err().detail << "\n";
    return 1;
  }
  service::notify_ready("running");

  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      service::notify_reloading();
      auto r = (*engine)->reload();
      if (!r) log_error("reload: " + r.err().detail);
      service::notify_ready(r ? "running"
                              : "running on the previous configuration: the last reload was "
                                "rejected (journalctl -u certfleetd says why)");
      continue;
    }
    service::notify_stopping();
    log_info("certfleetd: stopping on signal " + std::to_string(sig));
    (*engine)->stop();
    // Everything is durable; CAF would wait for the domain actors' pending timers.
#ifdef CERTFLEET_COVERAGE
    __gcov_dump();  // _Exit skips the exit handler that writes the coverage counters
#endif
    std::_Exit(0);
  }
}
