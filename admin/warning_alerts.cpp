#include "admin/warning_alerts.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/run_hook.hpp"
#include "serving/private_dir.hpp"

namespace certfleet::admin {

namespace {

constexpr const char* told_file = "alerts.json";
// 100k domains in alert at ~40 bytes each, with room to spare.
constexpr std::size_t told_max_bytes = std::size_t{64} << 20;

result<void> save_told(const std::filesystem::path& state_dir, const alert_set& told) {
  auto dir = serving::private_dir::open(state_dir, "state_dir");
  if (!dir) return std::move(dir).err();
  return dir->replace_file(told_file, encode_alert_set(told), 0600);
}

metrics::hook_result outcome_of(const result<void>& r) {
  if (r) return metrics::hook_result::ok;
  return r.err().kind == error_kind::timeout ? metrics::hook_result::timeout
                                             : metrics::hook_result::failed;
}

}  // namespace

result<alert_set> load_told(const std::filesystem::path& state_dir) {
  if (!std::filesystem::exists(state_dir / told_file)) return alert_set{};
  auto dir = serving::private_dir::open(state_dir, "state_dir");
  if (!dir) return std::move(dir).err();
  const auto text = dir->read_file(told_file, told_max_bytes);
  if (!text)
    return error{error_kind::storage, "cannot read " + (state_dir / told_file).string() +
                                          "; delete it and the hook is told every current "
                                          "alert once more"};
  return decode_alert_set(*text);
}

alert_round run_alert_round(const alert_sources& sources, alert_set& told) {
  alert_round round;
  const alert_settings settings = sources.settings();
  if (settings.hook.empty()) return round;
  const timestamp now = sources.now();
  alert_set current;
  // Records of the domains in the document: the ones alerting now and the ones told before.
  std::map<std::string, storage::domain_record> records;
  auto scanned = sources.for_each_domain([&](const storage::domain_record& r) {
    const alert_state state = alert_state_of(r, now, settings.expiry_alert);
    const bool alerting = state == alert_state::warning || state == alert_state::expiring;
    if (alerting) current[r.name] = state;
    if (alerting || told.count(r.name) > 0) records[r.name] = r;
  });
  if (!scanned) {
    log_error("alerts: reading the stored domains failed: " + scanned.err().detail);
    return round;
  }
  round.alerting = current.size();
  metrics::global().alerting_domains.store(current.size(), std::memory_order_relaxed);
  const auto changes = alert_changes(told, current, records);
  round.changes = changes.size();
  if (changes.empty()) return round;

  round.hook =
      run_hook({.directive = "warning_hook",
                .command = settings.hook,
                .input = alert_document(changes, records, current.size(), sources.node, now),
                .timeout = settings.timeout});
  metrics::global().warning_hook_runs[static_cast<std::size_t>(outcome_of(round.hook))].fetch_add(
      1, std::memory_order_relaxed);
  if (!round.hook) {
    log_error("alerts: " + round.hook.err().detail + "; " + std::to_string(changes.size()) +
              " change(s) are told again at the next scan");
    return round;
  }
  log_info("alerts: warning_hook told " + std::to_string(changes.size()) + " change(s); " +
           std::to_string(current.size()) + " domain(s) in alert");
  told = std::move(current);
  if (auto saved = save_told(sources.state_dir, told); !saved)
    log_error("alerts: " + saved.err().detail + "; after a restart the hook may be told again");
  return round;
}

struct warning_alerts::impl {
  alert_sources sources;
  timing t;
  alert_set told;
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  std::thread thread;

  // Scans at start, every scan_every, and `settle` after the activity counter moved.
  void loop() {
    std::uint64_t seen = sources.activity();
    auto next_scan = std::chrono::steady_clock::now();
    std::unique_lock lock(mutex);
    while (!stopping) {
      const auto now = std::chrono::steady_clock::now();
      const std::uint64_t activity = sources.activity();
      if (activity != seen) {
        seen = activity;
        next_scan = std::min(next_scan, now + t.settle);
      }
      if (now >= next_scan) {
        lock.unlock();
        run_alert_round(sources, told);
        lock.lock();
        next_scan = std::chrono::steady_clock::now() + t.scan_every;
        continue;
      }
      // Polls the counter every second at most: cheap, and no coupling to the actors.
      wake.wait_until(lock, std::min(next_scan, now + std::chrono::seconds(1)));
    }
  }
};

std::unique_ptr<warning_alerts> warning_alerts::start(alert_sources sources, timing t) {
  auto i = std::make_unique<impl>();
  i->sources = std::move(sources);
  i->t = t;
  auto told = load_told(i->sources.state_dir);
  if (told)
    i->told = std::move(*told);
  else
    log_error("alerts: " + told.err().detail);
  i->thread = std::thread([raw = i.get()] { raw->loop(); });
  return std::unique_ptr<warning_alerts>(new warning_alerts(std::move(i)));
}

warning_alerts::warning_alerts(std::unique_ptr<impl> i) : impl_(std::move(i)) {}

warning_alerts::~warning_alerts() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  impl_->thread.join();
}

}  // namespace certfleet::admin
