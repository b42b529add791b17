#pragma once
// warning_hook: on a thread of its own, scans the stored records every minute (and a few
// seconds after attempts end), and when domains entered or left an alert state runs the hook
// once for all of them with admin/alerts.hpp's document on stdin. What the hook was told is
// kept in the state directory only after it succeeded: a failed or timed-out run is repeated
// at the next scan, so no alert is lost, and a restart tells nothing twice.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "admin/alerts.hpp"
#include "core/error.hpp"
#include "storage/records.hpp"

namespace certfleet::admin {

struct alert_settings {
  std::string hook;  ///< empty: no hook (nothing is scanned or told)
  std::chrono::seconds timeout{60};
  std::chrono::days expiry_alert{0};
};

struct alert_sources {
  std::function<alert_settings()> settings;  ///< read at every scan: a reload applies
  std::function<result<void>(const std::function<void(const storage::domain_record&)>&)>
      for_each_domain;
  std::function<timestamp()> now;
  /// Grows whenever an attempt ends (issued, renewed, failed): a scan follows soon after.
  std::function<std::uint64_t()> activity;
  std::filesystem::path state_dir;  ///< holds alerts.json, what the hook was last told
  std::string node;                 ///< this host, in the document
};

/// What one scan did.
struct alert_round {
  std::size_t changes = 0;  ///< domains whose alert state changed (0: the hook did not run)
  std::size_t alerting = 0;
  result<void> hook{};  ///< the hook's outcome when it ran
};

/// One scan: compares the records with `told`, runs the hook when something changed, and on
/// success updates `told` and its file.
alert_round run_alert_round(const alert_sources& sources, alert_set& told);

/// The file in `state_dir` that keeps what the hook was told; an empty set when missing, and
/// an error saying what to do when damaged.
result<alert_set> load_told(const std::filesystem::path& state_dir);

class warning_alerts {
 public:
  struct timing {
    std::chrono::milliseconds scan_every{std::chrono::minutes(1)};
    /// After activity, how long to gather more before scanning: one hook run for a burst.
    std::chrono::milliseconds settle{std::chrono::seconds(5)};
  };
  static std::unique_ptr<warning_alerts> start(alert_sources sources, timing t);
  ~warning_alerts();  ///< stops the thread (a running hook is waited for, up to its timeout)
  warning_alerts(const warning_alerts&) = delete;
  warning_alerts& operator=(const warning_alerts&) = delete;

  struct impl;

 private:
  explicit warning_alerts(std::unique_ptr<impl> i);
  std::unique_ptr<impl> impl_;
};

}  // namespace certfleet::admin
