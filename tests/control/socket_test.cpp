// The control socket on a temporary path: typed request and answer, errors a user can act on,
// and the file's permissions.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include "control/client.hpp"
#include "control/codec.hpp"
#include "control/server.hpp"
#include "tests/support/temp_dir.hpp"

namespace certfleet::control {
namespace {

using namespace std::chrono_literals;

// Answers ping with 3 domains, retry with every name unknown, reload with a rejection.
response fake_daemon(const request& r) {
  if (std::holds_alternative<ping_request>(r)) return ping_response{3};
  if (const auto* retry = std::get_if<retry_request>(&r)) {
    retry_response out;
    for (const auto& d : retry->domains)
      out.results.push_back({d, retry_outcome::unknown_domain, ""});
    return out;
  }
  return reload_rejected{"certfleet.conf:1: unknown directive\n"};
}

class control_socket : public ::testing::Test {
 protected:
  testing::temp_dir dir;
  std::filesystem::path path = socket_in(dir.path());
};

// A raw connection that says nothing (or never reads): what a stuck or hostile client does.
int connect_silently(const std::filesystem::path& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

TEST_F(control_socket, a_client_that_sends_nothing_delays_no_other) {
  auto s = server::start(path, fake_daemon);
  ASSERT_TRUE(s) << s.err().detail;
  std::vector<int> silent;
  for (int i = 0; i < 3; ++i) silent.push_back(connect_silently(path));
  ASSERT_GE(silent.back(), 0);
  // Served one after another, the ping would wait for each silent client's 5 s read deadline.
  const auto before = std::chrono::steady_clock::now();
  auto ping = ask(path, ping_request{}, 4s);
  const auto took = std::chrono::steady_clock::now() - before;
  for (int fd : silent) ::close(fd);
  ASSERT_TRUE(ping) << ping.err().detail;
  EXPECT_LT(took, 2s);
}

TEST_F(control_socket, past_its_client_limit_a_newcomer_is_told_to_retry) {
  auto s = server::start(path, fake_daemon);
  ASSERT_TRUE(s) << s.err().detail;
  std::vector<int> silent;
  for (int i = 0; i < 16; ++i) silent.push_back(connect_silently(path));
  // The server admits them in order; the 17th is answered at once.
  auto answer = ask(path, ping_request{}, 4s);
  for (int fd : silent) ::close(fd);
  ASSERT_TRUE(answer) << answer.err().detail;
  const auto* busy = std::get_if<error_response>(&*answer);
  ASSERT_NE(busy, nullptr);
  EXPECT_NE(busy->message.find("try again"), std::string::npos) << busy->message;
}

TEST_F(control_socket, answers_each_request_with_its_typed_response) {
  auto s = server::start(path, fake_daemon);
  ASSERT_TRUE(s) << s.err().detail;
  auto ping = ask(path, ping_request{});
  ASSERT_TRUE(ping) << ping.err().detail;
  EXPECT_EQ(*ping, response{ping_response{3}});
  auto retry = ask(path, retry_request{{"a.example.com", "b.example.com"}});
  ASSERT_TRUE(retry) << retry.err().detail;
  EXPECT_EQ(std::get<retry_response>(*retry).results.size(), 2u);
  EXPECT_EQ(std::get<retry_response>(*retry).results[1].domain, "b.example.com");
  auto reload = ask(path, reload_request{});
  ASSERT_TRUE(reload) << reload.err().detail;
  EXPECT_TRUE(std::holds_alternative<reload_rejected>(*reload));
}

TEST_F(control_socket, is_created_for_the_owner_only_and_removed_on_stop) {
  {
    auto s = server::start(path, fake_daemon);
    ASSERT_TRUE(s) << s.err().detail;
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0600u);
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(control_socket, without_a_daemon_says_it_is_not_running) {
  auto answer = ask(path, ping_request{});
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.err().kind, error_kind::network);
  EXPECT_NE(answer.err().detail.find("certfleetd is not running"), std::string::npos);
  EXPECT_NE(answer.err().detail.find("--state-dir"), std::string::npos);
}

TEST_F(control_socket, answers_a_malformed_request_with_an_error_response) {
  auto s = server::start(path, fake_daemon);
  ASSERT_TRUE(s) << s.err().detail;
  for (const std::string line : {"not json", R"({"command":"shutdown"})", "[]"}) {
    auto raw = exchange_lines(path, line);
    ASSERT_TRUE(raw) << raw.err().detail;
    auto answer = decode_response(*raw);
    ASSERT_TRUE(answer) << *raw;
    ASSERT_TRUE(std::holds_alternative<error_response>(*answer)) << *raw;
    EXPECT_NE(std::get<error_response>(*answer).message.find("malformed control request"),
              std::string::npos);
  }
  EXPECT_TRUE(ask(path, ping_request{})) << "still serving";
}

TEST_F(control_socket, refuses_a_request_longer_than_its_limit) {
  auto s = server::start(path, fake_daemon);
  ASSERT_TRUE(s) << s.err().detail;
  auto raw = exchange_lines(path, std::string(max_request_bytes + 1, ' '));
  ASSERT_TRUE(raw) << raw.err().detail;
  auto answer = decode_response(*raw);
  ASSERT_TRUE(answer) << *raw;
  ASSERT_TRUE(std::holds_alternative<error_response>(*answer)) << *raw;
  EXPECT_NE(std::get<error_response>(*answer).message.find("longer than"), std::string::npos);
  EXPECT_TRUE(ask(path, ping_request{})) << "still serving";
}

TEST_F(control_socket, a_handler_that_throws_becomes_an_error_response) {
  auto s = server::start(
      path, [](const request&) -> response { throw std::runtime_error("store closed"); });
  ASSERT_TRUE(s) << s.err().detail;
  auto answer = ask(path, ping_request{});
  ASSERT_TRUE(answer) << answer.err().detail;
  ASSERT_TRUE(std::holds_alternative<error_response>(*answer));
  EXPECT_NE(std::get<error_response>(*answer).message.find("store closed"), std::string::npos);
}

TEST_F(control_socket, a_second_daemon_is_refused_and_the_first_keeps_its_socket) {
  auto first = server::start(path, fake_daemon);
  ASSERT_TRUE(first) << first.err().detail;
  auto second = server::start(path, fake_daemon);
  ASSERT_FALSE(second);
  EXPECT_NE(second.err().detail.find("another certfleetd is already running"), std::string::npos);
  EXPECT_TRUE(ask(path, ping_request{})) << "the first daemon's socket must survive";
}

TEST_F(control_socket, replaces_the_socket_file_of_a_killed_daemon) {
  // A socket file nobody listens on, as a killed daemon leaves it.
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::close(fd);
  ASSERT_TRUE(std::filesystem::exists(path));
  auto s = server::start(path, fake_daemon);
  ASSERT_TRUE(s) << s.err().detail;
  EXPECT_TRUE(ask(path, ping_request{}));
}

TEST_F(control_socket, carries_an_answer_for_a_whole_fleet) {
  // A reload that adds 100k domains: far more than one read, and more than 1 MiB.
  reload_response big;
  for (int i = 0; i < 100000; ++i) big.added.push_back("d" + std::to_string(i) + ".example.com");
  auto s = server::start(path, [&](const request&) -> response { return big; });
  ASSERT_TRUE(s) << s.err().detail;
  auto answer = ask(path, reload_request{});
  ASSERT_TRUE(answer) << answer.err().detail;
  EXPECT_EQ(*answer, response{big});
}

TEST_F(control_socket, a_path_too_long_for_a_socket_is_a_clear_error) {
  const auto long_path = dir.path() / std::string(200, 's');
  auto s = server::start(long_path, fake_daemon);
  ASSERT_FALSE(s);
  EXPECT_NE(s.err().detail.find("too long"), std::string::npos);
  auto answer = ask(long_path, ping_request{});
  ASSERT_FALSE(answer);
  EXPECT_NE(answer.err().detail.find("too long"), std::string::npos);
}

}  // namespace
}  // namespace certfleet::control
