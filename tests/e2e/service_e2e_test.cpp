// The real certfleetd under a service manager's eyes (the systemd unit is Type=notify): what it
// tells NOTIFY_SOCKET at start, around a reload applied or rejected, and at a stop.
#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/certfleetd_process.hpp"
#include "tests/support/notify_socket.hpp"

namespace certfleet::testing {
namespace {

TEST(certfleetd_service_e2e, ready_once_started_reloading_around_sighup_stopping_on_sigterm) {
  pebble_harness pebble;
  certfleetd_process d(pebble, {"notify0.e2e.test"});
  notify_socket manager;  // before start: the daemon inherits NOTIFY_SOCKET
  d.start();
  // READY=1 follows daemon::start, which binds port 80 and the control socket; start() here
  // may return a moment earlier (the control socket answers at once).
  EXPECT_EQ(manager.receive(), "READY=1\nSTATUS=running") << d.log();

  d.sighup();
  EXPECT_EQ(manager.receive().rfind("RELOADING=1\nMONOTONIC_USEC=", 0), 0u);
  EXPECT_EQ(manager.receive(), "READY=1\nSTATUS=running");

  std::ofstream(d.conf_dir() / "certfleet.conf", std::ios::app) << "orders_in_flight many\n";
  d.sighup();
  EXPECT_EQ(manager.receive().rfind("RELOADING=1\n", 0), 0u);
  EXPECT_EQ(manager.receive(),
            "READY=1\nSTATUS=running on the previous configuration: the last reload was rejected "
            "(journalctl -u certfleetd says why)");

  EXPECT_EQ(d.stop(), 0);
  EXPECT_EQ(manager.receive(), "STOPPING=1");
}

}  // namespace
}  // namespace certfleet::testing
