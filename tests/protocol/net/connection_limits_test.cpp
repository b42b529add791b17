// Port 80 under a connection flood (issue #17): caps per client address and in total,
// the longest-idle connection closed to make room, and the CA's validation requests
// still answered while thousands of hostile connections come and go at a lowered
// descriptor limit.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstdio>

#include "tests/protocol/net/http01_test_support.hpp"

namespace certfleet::protocol {
namespace {

using connection_limits = http01_fixture;

// The first three tests shrink the caps and the keep-alive timeout so each mechanism shows
// with a handful of connections and in well under a second; the flood test below runs the
// defaults a user gets (a quarter of the descriptor limit, 256 per address, 5 s).

// Opens n connections from `from`, each having had one request answered (so the
// server has registered it), now idle between requests.
std::vector<std::unique_ptr<raw_client>> idle_clients(unsigned short port, int n,
                                                      const std::string& from) {
  std::vector<std::unique_ptr<raw_client>> clients;
  for (int i = 0; i < n; ++i) {
    clients.push_back(std::make_unique<raw_client>(port, 5s, from));
    clients.back()->write(get_keep_alive("/warm-up"));
    EXPECT_TRUE(clients.back()->read_response().has_value()) << "connection " << i;
  }
  return clients;
}

bool validation_answered(unsigned short port, const std::string& from) {
  raw_client ca(port, 5s, from);
  ca.write(get("/.well-known/acme-challenge/tok"));
  const auto res = ca.read_to_end();
  return res.starts_with("HTTP/1.1 200 OK\r\n") && body_of(res) == "tok.ka";
}

TEST_F(connection_limits, an_address_at_its_cap_gives_up_its_longest_idle_connection) {
  start({.limits = {.max_connections = 100, .max_per_address = 4}});
  tokens_.publish("tok", "tok.ka");
  auto idle = idle_clients(server_->port(), 4, "127.0.0.3");
  EXPECT_TRUE(validation_answered(server_->port(), "127.0.0.3"));
  bool closed = false;
  idle[0]->read_to_end(&closed);
  EXPECT_TRUE(closed) << "the oldest idle connection of 127.0.0.3 was closed for the new one";
  idle[3]->write(get_keep_alive("/still-here"));
  EXPECT_TRUE(idle[3]->read_response().has_value()) << "the others stay open";
}

TEST_F(connection_limits, at_the_total_cap_a_new_client_still_gets_in) {
  start({.limits = {.max_connections = 8, .max_per_address = 256}});
  tokens_.publish("tok", "tok.ka");
  auto idle = idle_clients(server_->port(), 8, "127.0.0.4");
  EXPECT_TRUE(validation_answered(server_->port(), "127.0.0.2"));
  bool closed = false;
  idle[0]->read_to_end(&closed);
  EXPECT_TRUE(closed);
}

TEST_F(connection_limits, a_kept_alive_connection_waits_only_the_keep_alive_timeout) {
  start({.read_timeout = 10s, .keep_alive_timeout = 300ms});
  raw_client c(server_->port());
  c.write(get_keep_alive("/one"));
  ASSERT_TRUE(c.read_response().has_value());
  const auto before = std::chrono::steady_clock::now();
  bool closed = false;
  c.read_to_end(&closed);
  EXPECT_TRUE(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - before, 3s);
}

// The scenario: at the default descriptor limit, ~1100 keep-alive clients
// sending a request every few seconds stopped new HTTP-01 clients. Here 10,000 come
// and go while the process may hold 1024 descriptors; the server keeps its default
// limits (a quarter of the descriptor limit, 256 per address).
TEST_F(connection_limits, the_ca_is_answered_during_a_flood_at_a_lowered_descriptor_limit) {
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit lowered = saved;
  lowered.rlim_cur = std::min<rlim_t>(saved.rlim_cur, 1024);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &lowered), 0);
  start();
  EXPECT_EQ(server_->max_connections(), lowered.rlim_cur / 4);
  tokens_.publish("tok", "tok.ka");

  const std::string command = std::string(CERTFLEET_CONNECTION_FLOOD) + " " +
                              std::to_string(server_->port()) + " 10000 64 12";
  FILE* flood = ::popen(command.c_str(), "r");
  ASSERT_NE(flood, nullptr);
  std::this_thread::sleep_for(3s);  // let the flood fill every slot
  int answered = 0;
  constexpr int attempts = 20;
  for (int i = 0; i < attempts; ++i) {
    if (validation_answered(server_->port(), "127.0.0.2")) ++answered;
    std::this_thread::sleep_for(200ms);
  }
  char line[256] = {};
  const bool reported = std::fgets(line, sizeof line, flood) != nullptr;
  ::pclose(flood);
  ::setrlimit(RLIMIT_NOFILE, &saved);
  EXPECT_TRUE(reported);
  EXPECT_EQ(answered, attempts) << "flood: " << line;
}

}  // namespace
}  // namespace certfleet::protocol
