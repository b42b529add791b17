// The sd_notify wrapper against a NOTIFY_SOCKET of the test's own: what systemd reads from a
// Type=notify service, byte for byte, and nothing at all when the variable is unset.
#include "tools/service_notify.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "tests/support/notify_socket.hpp"

using namespace certfleet;
using certfleet::testing::notify_socket;

TEST(service_notify, ready_reaches_the_notify_socket_with_its_status) {
  notify_socket socket;
  EXPECT_TRUE(service::notify_ready("running"));
  EXPECT_EQ(socket.receive(), "READY=1\nSTATUS=running");
}

TEST(service_notify, a_status_stays_one_line) {
  notify_socket socket;
  EXPECT_TRUE(service::notify_ready("rejected:\na.conf:1: bad\r\n"));
  EXPECT_EQ(socket.receive(), "READY=1\nSTATUS=rejected: a.conf:1: bad  ");
}

TEST(service_notify, a_reload_is_framed_by_reloading_then_ready) {
  notify_socket socket;
  EXPECT_TRUE(service::notify_reloading());
  EXPECT_TRUE(service::notify_ready("running"));
  const std::string reloading = socket.receive();
  const std::string head = "RELOADING=1\nMONOTONIC_USEC=";
  ASSERT_EQ(reloading.rfind(head, 0), 0u) << reloading;
  const std::string usec = reloading.substr(head.size());
  EXPECT_FALSE(usec.empty());
  EXPECT_EQ(usec.find_first_not_of("0123456789"), std::string::npos) << usec;
  EXPECT_EQ(socket.receive(), "READY=1\nSTATUS=running");
}

TEST(service_notify, stopping_is_told) {
  notify_socket socket;
  EXPECT_TRUE(service::notify_stopping());
  EXPECT_EQ(socket.receive(), "STOPPING=1");
}

TEST(service_notify, without_notify_socket_nothing_is_sent) {
  ::unsetenv("NOTIFY_SOCKET");
  EXPECT_FALSE(service::notify_ready("running"));
  EXPECT_FALSE(service::notify_reloading());
  EXPECT_FALSE(service::notify_stopping());
}

TEST(service_notify, a_socket_nobody_listens_on_is_a_warning_not_a_stop) {
  certfleet::testing::temp_dir dir;
  const auto missing = (dir.path() / "gone").string();
  ::setenv("NOTIFY_SOCKET", missing.c_str(), 1);
  EXPECT_FALSE(service::notify_ready("running"));
  ::unsetenv("NOTIFY_SOCKET");
}
