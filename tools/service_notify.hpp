#pragma once
// Telling the service manager where certfleetd stands (sd_notify(3), Debian's libsystemd):
// the systemd unit is Type=notify, so `systemctl start` returns once the configuration is
// loaded and the listeners are bound, not when the process merely exists, and `systemctl
// status` shows a reload that was rejected.
//
// Each call is a no-op that returns false when NOTIFY_SOCKET is not in the environment
// (certfleetd started by hand, by a test or by another init). A message that cannot be sent
// is logged as a warning and returns false: the daemon goes on, and systemd reports the
// start as timed out, which the warning explains.

#include <string_view>

namespace certfleet::service {

/// READY=1 with STATUS=`status` (one line; newlines are replaced): the configuration is
/// loaded and every listener bound. Sent after start and after each reload, applied or not.
bool notify_ready(std::string_view status);
/// RELOADING=1 and MONOTONIC_USEC (which systemd 253+ requires with it): a SIGHUP reload
/// begins; notify_ready ends it.
bool notify_reloading();
/// STOPPING=1: a stop signal arrived and the daemon is making its state durable.
bool notify_stopping();

}  // namespace certfleet::service
