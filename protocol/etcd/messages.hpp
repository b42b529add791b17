#pragma once
// The requests and answers of etcd's v3 JSON gateway (etcd 3.4, grpc-gateway): what
// certfleet sends, built as JSON text, and what etcd answers, parsed into plain
// structs. Keys and values travel as base64; 64-bit numbers as decimal strings; a field
// at its default (0, false, PUT) is left out of etcd's answers. No I/O here.

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/error.hpp"

namespace certfleet::protocol::etcd {

struct key_value {
  std::string key;
  std::string value;
  std::int64_t create_revision = 0;
  std::int64_t mod_revision = 0;
  std::int64_t version = 0;
  std::int64_t lease = 0;
};

/// The end of the range that holds every key starting with `prefix` (etcd's
/// "range_end = prefix + 1").
std::string prefix_end(std::string_view prefix);

struct range_request {
  std::string key;
  std::string range_end;      ///< empty: the one key
  std::int64_t limit = 0;     ///< 0: no limit
  std::int64_t revision = 0;  ///< 0: the newest
  bool count_only = false;
};
struct put_request {
  std::string key;
  std::string value;
  std::int64_t lease = 0;  ///< 0: no lease
};
struct delete_request {
  std::string key;
  std::string range_end;
};
using request_op = std::variant<range_request, put_request, delete_request>;

/// One condition of a transaction: `target` of `key` compared with `number` (for the
/// revisions, version and lease) or `value`. A key that does not exist has version,
/// create and mod revision 0 and lease 0.
struct compare {
  enum class target { version, create_revision, mod_revision, value, lease };
  enum class op { equal, greater, less, not_equal };
  std::string key;
  target what = target::mod_revision;
  op result = op::equal;
  std::int64_t number = 0;
  std::string value;
};

struct txn_request {
  std::vector<compare> compares;
  std::vector<request_op> success;
  std::vector<request_op> failure;
};

struct range_result {
  std::vector<key_value> kvs;
  bool more = false;
  std::int64_t count = 0;
  std::int64_t revision = 0;  ///< the store's revision when it was read
};

struct txn_result {
  bool succeeded = false;
  std::int64_t revision = 0;
  /// The answers of the branch that ran, in order; a put or delete leaves an empty one.
  std::vector<range_result> ranges;
};

struct lease_grant {
  std::int64_t id = 0;
  std::int64_t ttl_seconds = 0;
};

struct watch_request {
  std::string key;
  std::string range_end;
  std::int64_t start_revision = 0;  ///< 0: from now on
};

struct watch_event {
  bool deleted = false;  ///< a DELETE (a lease that expired deletes its keys too)
  key_value kv;          ///< for a delete: the key and its mod_revision
};

/// One message of a watch stream.
struct watch_message {
  bool created = false;
  bool canceled = false;
  /// Non-zero when the start revision was compacted: the watch is canceled and the
  /// caller must read everything again from this revision on.
  std::int64_t compact_revision = 0;
  std::int64_t revision = 0;
  std::vector<watch_event> events;
  std::string cancel_reason;
};

// Request bodies, for POST to the path each names.
constexpr std::string_view range_path = "/v3/kv/range";
constexpr std::string_view put_path = "/v3/kv/put";
constexpr std::string_view delete_path = "/v3/kv/deleterange";
constexpr std::string_view txn_path = "/v3/kv/txn";
constexpr std::string_view grant_path = "/v3/lease/grant";
constexpr std::string_view keep_alive_path = "/v3/lease/keepalive";
constexpr std::string_view revoke_path = "/v3/lease/revoke";
constexpr std::string_view watch_path = "/v3/watch";
constexpr std::string_view status_path = "/v3/maintenance/status";

std::string range_body(const range_request& r);
std::string put_body(const put_request& p);
std::string delete_body(const delete_request& d);
std::string txn_body(const txn_request& t);
std::string grant_body(std::int64_t ttl_seconds);
std::string lease_id_body(std::int64_t lease);
std::string watch_body(const watch_request& w);

// Answers. An answer that is not what etcd sends is a bad_response error naming what
// is missing.
result<range_result> parse_range(std::string_view body);
/// The store's revision after a put or delete.
result<std::int64_t> parse_revision(std::string_view body);
result<txn_result> parse_txn(std::string_view body);
result<lease_grant> parse_grant(std::string_view body);
/// The lease's remaining TTL; 0 when the lease is gone (expired or revoked).
result<std::int64_t> parse_keep_alive(std::string_view body);
result<watch_message> parse_watch_message(std::string_view line);

/// An error answer ({"error": ..., "code": N}) with its HTTP status, as an error whose
/// kind says what the caller can do: a member without a leader, a timeout or a 5xx
/// (gRPC codes 4, 14) is `network` and retryable on another member; a lease that is
/// gone (code 5) is `invalid_input`; anything else `server_error`.
error error_from_answer(unsigned http_status, std::string_view body);

}  // namespace certfleet::protocol::etcd
