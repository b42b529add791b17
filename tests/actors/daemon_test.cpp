// The whole daemon in-process (actors/system.cpp's wiring) with Let's Encrypt not enabled, so
// nothing reaches a CA: its listeners, the status page, warning_hook's state, and a reload
// that moves every listener and changes what may change live. Real sockets on loopback.
#include "actors/system.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <thread>

#include "config/configuration.hpp"
#include "tests/support/net_test_support.hpp"
#include "tests/support/pebble_harness.hpp"
#include "tests/support/temp_dir.hpp"

namespace certfleet::actors {
namespace {

using namespace std::chrono_literals;
using certfleet::testing::free_loopback_port;
using certfleet::testing::run_command;
using certfleet::testing::temp_dir;

// Ports below the ephemeral range (free_loopback_port): other tests run meanwhile, and their
// outgoing connections take ephemeral ports.

// The HTTP status of GET url, or "000" when nothing answers.
std::string status_of(const std::string& url) {
  return run_command("curl -s -o /dev/null -w '%{http_code}' --max-time 5 '" + url + "'; true");
}

std::string body_of(const std::string& url) {
  return run_command("curl -s --max-time 5 '" + url + "'; true");
}

bool eventually(const std::function<bool()>& done) {
  for (int i = 0; i < 200; ++i) {  // 10 s
    if (done()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return done();
}

struct ports {
  std::string http = std::to_string(free_loopback_port());
  std::string https = std::to_string(free_loopback_port());
  std::string admin = std::to_string(free_loopback_port());
};

class daemon_test : public ::testing::Test {
 protected:
  void write_config(const ports& p, const std::string& extra = "") {
    std::filesystem::create_directories(conf_);
    std::ofstream(conf_ / "certfleet.conf", std::ios::trunc)
        << "lets_encrypt_registration_email ops@example.com\n"  // terms not agreed: idle
        << "acme_directory_url https://127.0.0.1:" << ca_port_ << "/dir\n"
        << "http_listen 127.0.0.1:" << p.http << "\n"
        << "https_listen 127.0.0.1:" << p.https << "\n"
        << "admin_listen 127.0.0.1:" << p.admin << "\n"
        << "dns_servers 127.0.0.1:" << free_loopback_port() << "\n"
        << "warning_hook cat >> " << (dir_.path() / "told").string() << "\n"
        << "state_dir " << (dir_.path() / "state").string() << "\n"
        << extra;
    std::ofstream(conf_ / "url_domains", std::ios::trunc) << "a.example\nb.example\n";
    std::ofstream(conf_ / "me", std::ios::trunc) << "a.example\n";
  }
  std::unique_ptr<daemon> start() {
    auto loaded = config::load_configuration(conf_);
    EXPECT_TRUE(loaded.ok());
    daemon_options options;
    options.allow_new_state = true;
    auto started = daemon::start(std::move(*loaded.value), options);
    EXPECT_TRUE(started) << started.err().detail;
    return started ? std::move(started.value()) : nullptr;
  }

  temp_dir dir_;
  std::filesystem::path conf_ = dir_.path() / "conf";
  // No CA answers there; the same in every configuration, so a reload does not switch CAs.
  int ca_port_ = free_loopback_port();
};

// A start that fails after the actors are up (here: the admin port is taken) returns its
// error; it used to wait for the actors forever. In a child process: as in certfleetd, whose
// process ends after a failed start, the actor system is left to the process's exit, and its
// actors must not outlive the daemon's state in a process that goes on.
TEST_F(daemon_test, a_failed_start_returns_its_error) {
  ports taken;
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor holder(io, {boost::asio::ip::make_address("127.0.0.1"),
                                             static_cast<unsigned short>(std::stoi(taken.admin))});
  write_config(taken);
  EXPECT_EXIT(
      {
        auto loaded = config::load_configuration(conf_);
        auto started = daemon::start(std::move(*loaded.value), {.allow_new_state = true});
        const bool said_why =
            !started && started.err().detail.find("admin_listen") != std::string::npos;
        std::_Exit(said_why ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST_F(daemon_test, serves_its_pages_idle_and_a_reload_moves_every_listener_live) {
  const ports first;
  write_config(first);
  auto d = start();
  ASSERT_TRUE(d);
  const std::string admin = "http://127.0.0.1:" + first.admin;
  ASSERT_TRUE(eventually([&] {
    return body_of(admin + "/api/summary").find("\"domains\": 2") != std::string::npos;
  })) << body_of(admin + "/api/summary");
  EXPECT_NE(body_of(admin + "/").find("Let&#39;s Encrypt is not enabled"), std::string::npos)
      << "the status page says why nothing happens";
  EXPECT_EQ(status_of("http://127.0.0.1:" + first.http + "/.well-known/acme-challenge/x"), "404");
  EXPECT_EQ(d->running_domains(), 2u);

  const ports second;
  write_config(second, "http_upstream 127.0.0.1:" + std::to_string(free_loopback_port()) +
                           "\nurl_domains_always_use_tls yes\n");
  auto reloaded = d->reload();
  ASSERT_TRUE(reloaded) << reloaded.err().detail;
  const std::string moved = "http://127.0.0.1:" + second.admin;
  EXPECT_TRUE(eventually([&] { return status_of(moved + "/api/summary") == "200"; }));
  EXPECT_EQ(status_of(admin + "/api/summary"), "000") << "the old admin listener is closed";
  EXPECT_EQ(status_of("http://127.0.0.1:" + second.http + "/.well-known/acme-challenge/x"), "404");
  EXPECT_TRUE(eventually([&] {
    return status_of("http://127.0.0.1:" + first.http + "/.well-known/acme-challenge/x") == "000";
  })) << "the HTTP-01 responder left its old port";
  EXPECT_TRUE(eventually([&] {
    return run_command(
               "curl -sk -o /dev/null -w '%{http_code}' --max-time 5 --resolve "
               "a.example:" +
               second.https + ":127.0.0.1 https://a.example:" + second.https + "/; true") == "502";
  })) << "the HTTPS listener moved and forwards to the new (dead) upstream";

  // A reload with an error keeps everything where it is.
  std::ofstream(conf_ / "certfleet.conf", std::ios::app) << "orders_in_flight many\n";
  EXPECT_FALSE(d->reload());
  EXPECT_EQ(status_of(moved + "/api/summary"), "200");
  d->stop();
  // Not destroyed: ~daemon leaves the actor system to the process's exit (certfleetd exits
  // after it), and its actors must not outlive the daemon's state while tests go on.
  (void)d.release();
}

}  // namespace
}  // namespace certfleet::actors
