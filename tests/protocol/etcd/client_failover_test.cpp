// The etcd client against scripted members on loopback: which member a call goes to,
// which answers move it on, and how a watch stream is read. The real etcd is in
// client_test.cpp (label cluster).
#include <gtest/gtest.h>

#include "protocol/etcd/client.hpp"
#include "tests/support/net_test_support.hpp"

namespace certfleet::protocol::etcd {
namespace {

using namespace certfleet::testing::net;

std::string answer(const std::string& status, const std::string& body) {
  return "HTTP/1.1 " + status +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

// A member answering every request on a connection with `reply`.
fake_peer::handler member(std::string reply) {
  return [reply](tcp::socket& s, int) {
    std::string buffer;
    while (read_request(s, buffer)) send(s, reply);
  };
}

const std::string put_ok = answer("200 OK", R"({"header":{"revision":"7"}})");

TEST(EtcdClientFailover, ACallMovesOnFromAMemberThatIsDownOrWithoutLeader) {
  io_thread io;
  fake_peer leaderless(
      member(answer("503 Service Unavailable", R"({"error":"etcdserver: no leader","code":14})")));
  fake_peer healthy(member(put_ok));
  const std::string down = "http://127.0.0.1:" + std::to_string(closed_port());
  client c(io.executor(), client_options{{down, leaderless.url(""), healthy.url("")}});
  auto revision = io.run(c.put({"k", "v", 0}));
  ASSERT_TRUE(revision) << revision.err().detail;
  EXPECT_EQ(*revision, 7);
  EXPECT_EQ(c.endpoint(), healthy.url(""));
  // The next call goes straight to the member that answered.
  ASSERT_TRUE(io.run(c.put({"k", "v", 0})));
  EXPECT_EQ(leaderless.accepted(), 1);
}

TEST(EtcdClientFailover, EveryMemberFailingIsOneRetryableErrorNamingTheLast) {
  io_thread io;
  fake_peer leaderless(
      member(answer("503 Service Unavailable", R"({"error":"etcdserver: no leader","code":14})")));
  const std::string down = "http://127.0.0.1:" + std::to_string(closed_port());
  client c(io.executor(), client_options{{leaderless.url(""), down}});
  auto failed = io.run(c.range({"k", "", 0, 0, false}));
  ASSERT_FALSE(failed);
  EXPECT_TRUE(failed.err().retryable);
  EXPECT_NE(failed.err().detail.find(down), std::string::npos) << failed.err().detail;
}

TEST(EtcdClientFailover, AnAnswerAboutTheRequestItselfDoesNotMoveOn) {
  io_thread io;
  fake_peer first(member(
      answer("404 Not Found", R"({"error":"etcdserver: requested lease not found","code":5})")));
  fake_peer second(member(put_ok));
  client c(io.executor(), client_options{{first.url(""), second.url("")}});
  auto gone = io.run(c.keep_alive(42));
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.err().kind, error_kind::invalid_input);
  EXPECT_EQ(second.accepted(), 0);
  EXPECT_FALSE(io.run(c.revoke(42)));
}

TEST(EtcdClientFailover, EachCallSendsItsRequestToItsPath) {
  io_thread io;
  fake_peer* self = nullptr;
  fake_peer recorder([&self](tcp::socket& s, int) {
    std::string buffer;
    while (auto req = read_request(s, buffer)) {
      self->record(*req);
      std::string body = R"({"header":{"revision":"3"}})";
      if (req->find("/v3/lease/grant") != std::string::npos)
        body = R"({"header":{"revision":"3"},"ID":"99","TTL":"5"})";
      if (req->find("/v3/lease/keepalive") != std::string::npos)
        body = R"({"result":{"header":{"revision":"3"},"ID":"99","TTL":"5"}})";
      if (req->find("/v3/kv/txn") != std::string::npos)
        body = R"({"header":{"revision":"3"},"succeeded":true})";
      send(s, answer("200 OK", body));
    }
  });
  self = &recorder;
  client c(io.executor(), client_options{{recorder.url("/")}});
  EXPECT_EQ(io.run(c.grant(5))->id, 99);
  EXPECT_EQ(*io.run(c.keep_alive(99)), 5);
  EXPECT_TRUE(io.run(c.txn({}))->succeeded);
  EXPECT_EQ(io.run(c.range({"k", "", 0, 0, false}))->revision, 3);
  EXPECT_EQ(*io.run(c.remove({"k", ""})), 3);
  EXPECT_TRUE(io.run(c.revoke(99)));
  const auto requests = recorder.requests();
  ASSERT_EQ(requests.size(), 6u);
  const char* paths[] = {"POST /v3/lease/grant ",    "POST /v3/lease/keepalive ",
                         "POST /v3/kv/txn ",         "POST /v3/kv/range ",
                         "POST /v3/kv/deleterange ", "POST /v3/lease/revoke "};
  for (std::size_t i = 0; i < requests.size(); ++i)
    EXPECT_EQ(requests[i].rfind(paths[i], 0), 0u) << requests[i];
}

TEST(EtcdClientFailover, EndpointsAreCheckedWhenTheClientIsMade) {
  io_thread io;
  EXPECT_THROW(client(io.executor(), client_options{}), std::runtime_error);
  EXPECT_THROW(client(io.executor(), client_options{{"http://a:1/v3"}}), std::runtime_error);
  EXPECT_THROW(client(io.executor(), client_options{{"not a url"}}), std::runtime_error);
  auto split = parse_endpoints({"http://a:1,http://b:2", "https://c:3/"});
  ASSERT_TRUE(split);
  EXPECT_EQ(*split, (std::vector<std::string>{"http://a:1", "http://b:2", "https://c:3"}));
}

TEST(EtcdClientFailover, AWatchReadsLinesThatSpanChunksAndEndsWhenCanceled) {
  io_thread io;
  fake_peer watcher([](tcp::socket& s, int) {
    std::string buffer;
    if (!read_request(s, buffer)) return;
    const std::string created = R"({"result":{"header":{"revision":"5"},"created":true}})"
                                "\n";
    const std::string event =
        R"({"result":{"header":{"revision":"6"},"events":[{"kv":{"key":"YQ==","mod_revision":"6","value":"MQ=="}}]}})"
        "\n";
    const std::string canceled =
        R"({"result":{"header":{},"canceled":true,"compact_revision":"6"}})"
        "\n";
    const std::string all = created + event + canceled;
    const auto chunk = [](const std::string& part) {
      char size[16];
      std::snprintf(size, sizeof size, "%zx\r\n", part.size());
      return std::string(size) + part + "\r\n";
    };
    // Cut in the middle of the event's line.
    const std::size_t cut = created.size() + 20;
    send(s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk(all.substr(0, cut)));
    send(s, chunk(all.substr(cut)));
    std::this_thread::sleep_for(300ms);
  });
  client c(io.executor(), client_options{{watcher.url("")}});
  std::vector<watch_message> seen;
  auto ended = io.run(c.watch(
      {"a", "b", 5},
      [&](watch_message& m) {
        seen.push_back(m);
        return true;
      },
      5000ms));
  ASSERT_TRUE(ended) << ended.err().detail;
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_TRUE(seen[0].created);
  ASSERT_EQ(seen[1].events.size(), 1u);
  EXPECT_EQ(seen[1].events[0].kv.value, "1");
  EXPECT_EQ(seen[2].compact_revision, 6);
}

TEST(EtcdClientFailover, AWatchOnAMemberThatIsDownFailsAndTheNextGoesElsewhere) {
  io_thread io;
  fake_peer healthy(member(put_ok));
  const std::string down = "http://127.0.0.1:" + std::to_string(closed_port());
  client c(io.executor(), client_options{{down, healthy.url("")}});
  auto failed = io.run(c.watch(
      {"a", "", 0}, [](watch_message&) { return true; }, std::chrono::milliseconds(500)));
  ASSERT_FALSE(failed);
  EXPECT_TRUE(failed.err().retryable);
  EXPECT_EQ(c.endpoint(), healthy.url(""));
}

}  // namespace
}  // namespace certfleet::protocol::etcd
