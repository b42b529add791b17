#pragma once
// What Debian's pebble 2.4 lacks of today's Let's Encrypt, in front of a real pebble: an
// HTTPS proxy on loopback that passes every ACME request through to pebble unchanged
// (keeping the Host header, so pebble's URLs and JWS "url" checks name the front) and adds:
//   - renewalInfo (RFC 9773) to the directory, answering windows a test sets;
//   - meta.profiles to the directory, when a test sets them;
//   - a record of the `replaces` field of every newOrder, and an alreadyReplaced refusal a
//     test can ask for once per certificate identifier;
//   - a record of account contact updates (pebble's account URLs are /my-account/N).
// Orders, challenges, validation and issuance stay pebble's.

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/time.hpp"
#include "tests/support/pebble_harness.hpp"

namespace certfleet::testing {

class acme_front {
 public:
  /// Listens on a free loopback port with pebble's TLS certificate (so acme_ca_bundle of
  /// pebble_harness trusts it). Throws std::runtime_error when it cannot listen.
  explicit acme_front(const pebble_harness& pebble);
  ~acme_front();
  acme_front(const acme_front&) = delete;
  acme_front& operator=(const acme_front&) = delete;

  /// The directory URL to configure instead of pebble's.
  std::string directory_url() const;

  /// The renewal window of the certificate `cert_id` (ari_certificate_id); certificates
  /// without one answer the default window, or 404 when none is set.
  void set_window(const std::string& cert_id, timestamp start, timestamp end);
  void set_default_window(timestamp start, timestamp end);
  /// The renewalInfo answer of `cert_id` is `body` as it is (garbage, a window that ends
  /// before it starts, ...): a CA's bad input.
  void set_window_body(const std::string& cert_id, const std::string& body);
  /// Retry-After of every renewalInfo answer (RFC 9773 §4.3).
  void set_retry_after(std::chrono::seconds s);
  /// meta.profiles of the directory, as the raw JSON value (e.g. {"classic":"...", ...}, or
  /// something that is not a map, to test bad CA input). Empty: none.
  void set_profiles_json(const std::string& json);
  /// The next newOrder that replaces `cert_id` is refused with alreadyReplaced.
  void refuse_replacing_once(const std::string& cert_id);

  /// The `replaces` value of every order pebble created so far ("" for orders without one),
  /// in order.
  std::vector<std::string> replaces_seen() const;
  /// The `profile` of every order pebble created so far ("" for none), in order.
  std::vector<std::string> profiles_seen() const;
  /// The new contact ("mailto:...") of every account update pebble accepted, in order.
  std::vector<std::string> contact_updates() const;
  /// renewalInfo requests answered so far.
  int window_requests() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace certfleet::testing
