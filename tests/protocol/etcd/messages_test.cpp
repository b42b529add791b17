// The gateway's messages against answers etcd 3.4.23 really gave (captured with curl).
#include "protocol/etcd/messages.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace certfleet::protocol::etcd {
namespace {

using nlohmann::json;

TEST(EtcdMessages, PrefixEndIsTheFirstKeyAfterThePrefix) {
  EXPECT_EQ(prefix_end("a/"), "a0");
  EXPECT_EQ(prefix_end("/fleet/domains/"), "/fleet/domains0");
  EXPECT_EQ(prefix_end(std::string("a\xff", 2)), "b");
  EXPECT_EQ(prefix_end(std::string("\xff\xff", 2)), std::string(1, '\0'));
  EXPECT_EQ(prefix_end(""), std::string(1, '\0'));
}

TEST(EtcdMessages, BodiesCarryKeysAsBase64AndNumbersAsStrings) {
  const json range = json::parse(range_body({"a/", prefix_end("a/"), 500, 7, false}));
  EXPECT_EQ(range["key"], "YS8=");
  EXPECT_EQ(range["range_end"], "YTA=");
  EXPECT_EQ(range["limit"], "500");
  EXPECT_EQ(range["revision"], "7");
  EXPECT_FALSE(range.contains("count_only"));

  const json put = json::parse(put_body({"k", "v", 42}));
  EXPECT_EQ(put, json({{"key", "aw=="}, {"value", "dg=="}, {"lease", "42"}}));
  EXPECT_FALSE(json::parse(put_body({"k", "v", 0})).contains("lease"));

  EXPECT_EQ(json::parse(grant_body(5)), json({{"TTL", "5"}}));
  EXPECT_EQ(json::parse(lease_id_body(2421144751655072774)), json({{"ID", "2421144751655072774"}}));
  EXPECT_EQ(json::parse(watch_body({"a/", "a0", 12})),
            json({{"create_request",
                   {{"key", "YS8="}, {"range_end", "YTA="}, {"start_revision", "12"}}}}));
}

TEST(EtcdMessages, TransactionsNameEachCompareTarget) {
  txn_request t;
  t.compares.push_back({"m", compare::target::lease, compare::op::equal, 9, {}});
  t.compares.push_back({"d", compare::target::mod_revision, compare::op::less, 30, {}});
  t.compares.push_back({"n", compare::target::create_revision, compare::op::equal, 0, {}});
  t.compares.push_back({"v", compare::target::value, compare::op::not_equal, 0, "x"});
  t.compares.push_back({"w", compare::target::version, compare::op::greater, 2, {}});
  t.success.push_back(put_request{"d", "new", 0});
  t.success.push_back(delete_request{"old", ""});
  t.failure.push_back(range_request{"d", "", 0, 0, false});
  const json j = json::parse(txn_body(t));
  ASSERT_EQ(j["compare"].size(), 5u);
  EXPECT_EQ(j["compare"][0],
            json({{"key", "bQ=="}, {"target", "LEASE"}, {"result", "EQUAL"}, {"lease", "9"}}));
  EXPECT_EQ(j["compare"][1]["target"], "MOD");
  EXPECT_EQ(j["compare"][1]["result"], "LESS");
  EXPECT_EQ(j["compare"][1]["mod_revision"], "30");
  EXPECT_EQ(j["compare"][2]["target"], "CREATE");
  EXPECT_EQ(j["compare"][2]["create_revision"], "0");
  EXPECT_EQ(j["compare"][3]["value"], "eA==");
  EXPECT_EQ(j["compare"][3]["result"], "NOT_EQUAL");
  EXPECT_EQ(j["compare"][4]["version"], "2");
  EXPECT_TRUE(j["success"][0].contains("request_put"));
  EXPECT_TRUE(j["success"][1].contains("request_delete_range"));
  EXPECT_TRUE(j["failure"][0].contains("request_range"));
}

TEST(EtcdMessages, ParsesRangesAndTransactions) {
  auto failed = parse_txn(
      R"({"header":{"cluster_id":"11608631225183132611","member_id":"5859909270110544281","revision":"4","raft_term":"2"},"responses":[{"response_range":{"header":{"revision":"4"},"kvs":[{"key":"YS95","create_revision":"4","mod_revision":"4","version":"1","value":"Mg=="}],"count":"1"}}]})");
  ASSERT_TRUE(failed) << failed.err().detail;
  EXPECT_FALSE(failed->succeeded);  // etcd leaves out "succeeded": false
  EXPECT_EQ(failed->revision, 4);
  ASSERT_EQ(failed->ranges.size(), 1u);
  ASSERT_EQ(failed->ranges[0].kvs.size(), 1u);
  EXPECT_EQ(failed->ranges[0].kvs[0].key, "a/y");
  EXPECT_EQ(failed->ranges[0].kvs[0].value, "2");
  EXPECT_EQ(failed->ranges[0].kvs[0].create_revision, 4);

  auto succeeded = parse_txn(
      R"({"header":{"revision":"4"},"succeeded":true,"responses":[{"response_put":{"header":{"revision":"4"}}}]})");
  ASSERT_TRUE(succeeded);
  EXPECT_TRUE(succeeded->succeeded);
  ASSERT_EQ(succeeded->ranges.size(), 1u);
  EXPECT_TRUE(succeeded->ranges[0].kvs.empty());

  auto empty = parse_range(R"({"header":{"revision":"9"}})");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->revision, 9);
  EXPECT_TRUE(empty->kvs.empty());
  EXPECT_EQ(*parse_revision(R"({"header":{"revision":"3"},"deleted":"1"})"), 3);
}

TEST(EtcdMessages, ParsesLeases) {
  auto grant = parse_grant(R"({"header":{"revision":"1"},"ID":"2421144751655072774","TTL":"5"})");
  ASSERT_TRUE(grant);
  EXPECT_EQ(grant->id, 2421144751655072774);
  EXPECT_EQ(grant->ttl_seconds, 5);
  EXPECT_EQ(*parse_keep_alive(
                R"({"result":{"header":{"revision":"1"},"ID":"2421144751655072776","TTL":"5"}})"),
            5);
  // A lease that expired: etcd answers without a TTL.
  EXPECT_EQ(*parse_keep_alive(R"({"result":{"header":{"revision":"1"},"ID":"12345"}})"), 0);
  EXPECT_FALSE(parse_grant(R"({"header":{"revision":"1"}})"));
}

TEST(EtcdMessages, ParsesWatchMessages) {
  auto created = parse_watch_message(R"({"result":{"header":{"revision":"1"},"created":true}})");
  ASSERT_TRUE(created);
  EXPECT_TRUE(created->created);
  EXPECT_EQ(created->revision, 1);

  auto put = parse_watch_message(
      R"({"result":{"header":{"revision":"2"},"events":[{"kv":{"key":"YS94","create_revision":"2","mod_revision":"2","version":"1","value":"MQ==","lease":"2421144751655072776"}}]}})");
  ASSERT_TRUE(put);
  ASSERT_EQ(put->events.size(), 1u);
  EXPECT_FALSE(put->events[0].deleted);  // PUT is the default, so etcd leaves "type" out
  EXPECT_EQ(put->events[0].kv.key, "a/x");
  EXPECT_EQ(put->events[0].kv.lease, 2421144751655072776);

  auto deleted = parse_watch_message(
      R"({"result":{"header":{"revision":"3"},"events":[{"type":"DELETE","kv":{"key":"YS94","mod_revision":"3"}}]}})");
  ASSERT_TRUE(deleted);
  EXPECT_TRUE(deleted->events[0].deleted);
  EXPECT_EQ(deleted->events[0].kv.mod_revision, 3);

  auto compacted = parse_watch_message(
      R"({"result":{"header":{"raft_term":"2"},"canceled":true,"compact_revision":"4"}})");
  ASSERT_TRUE(compacted);
  EXPECT_TRUE(compacted->canceled);
  EXPECT_EQ(compacted->compact_revision, 4);
}

TEST(EtcdMessages, RefusesAnswersThatAreNotEtcds) {
  for (const char* bad : {"", "[]", "{", R"({"result":1})", R"({"header":{"revision":"x"}})",
                          R"({"header":{"revision":"1"},"kvs":[{"key":"not base64!"}]})",
                          R"({"header":{"revision":"1"},"kvs":{}})"}) {
    EXPECT_FALSE(parse_range(bad)) << bad;
    EXPECT_FALSE(parse_watch_message(bad)) << bad;
  }
  auto err = parse_range("{");
  EXPECT_EQ(err.err().kind, error_kind::bad_response);
}

TEST(EtcdMessages, ErrorsSayWhetherAnotherMemberMayHelp) {
  const error lease = error_from_answer(
      404,
      R"({"error":"etcdserver: requested lease not found","message":"etcdserver: requested lease not found","code":5})");
  EXPECT_EQ(lease.kind, error_kind::invalid_input);
  EXPECT_FALSE(lease.retryable);
  EXPECT_NE(lease.detail.find("requested lease not found"), std::string::npos);

  const error no_leader = error_from_answer(503, R"({"error":"etcdserver: no leader","code":14})");
  EXPECT_EQ(no_leader.kind, error_kind::network);
  EXPECT_TRUE(no_leader.retryable);
  EXPECT_NE(no_leader.detail.find("majority"), std::string::npos);

  const error compacted = error_from_answer(
      400, R"({"error":"etcdserver: mvcc: required revision has been compacted","code":11})");
  EXPECT_EQ(compacted.kind, error_kind::server_error);
  EXPECT_FALSE(compacted.retryable);

  EXPECT_TRUE(error_from_answer(502, "<html>bad gateway</html>").retryable);
}

}  // namespace
}  // namespace certfleet::protocol::etcd
