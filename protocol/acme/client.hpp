#pragma once
// The RFC 8555 requests, one method per resource interaction. Signs every POST
// with the account key (JWS), keeps a nonce pool, retries badNonce, turns every
// CA problem document into a certfleet::error.
//
// Thread model: like http_client, one acme_client lives on one single-threaded
// io_context; call it only from coroutines running there.

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/metrics.hpp"
#include "protocol/acme/ca_pacing.hpp"
#include "protocol/acme/issuance_types.hpp"
#include "protocol/acme/jws.hpp"
#include "protocol/acme/nonce_pool.hpp"
#include "protocol/acme/renewal_info.hpp"
#include "protocol/acme/types.hpp"
#include "protocol/crypto/crypto.hpp"
#include "protocol/net/http_client.hpp"

namespace certfleet::protocol {

struct acme_client_options {
  /// badNonce answers retried per request before giving up; enough to pass at
  /// 50% nonce rejection (0.5^40 is never).
  int bad_nonce_budget = 40;
  /// Polling of challenges and orders: start soon, back off to max_poll_delay,
  /// give up after poll_timeout. A Retry-After from the CA wins when longer. A poll
  /// may go out up to a fifth of its delay early (ca_pacing.hpp).
  std::chrono::milliseconds first_poll_delay{50};
  std::chrono::milliseconds max_poll_delay{2000};
  std::chrono::seconds poll_timeout{300};
};

class acme_client {
 public:
  acme_client(http_client& http, std::string directory_url, acme_client_options options = {});

  /// RFC 8555 §7.1.1: fetched once, then cached.
  boost::asio::awaitable<result<acme_directory>> directory();

  /// RFC 8555 §7.3: creates the account (or finds the existing one for this key) and
  /// uses it from then on. Returns the account URL. The key is shared and the email
  /// taken by value: the coroutine reads them after its first suspension, when a
  /// caller's temporary may be gone. The client keeps only a signer made from the key.
  /// With `binding`, the account is bound to the operator's account at the CA (RFC 8555
  /// §7.3.4). A CA whose directory says externalAccountRequired is not asked without one:
  /// the error (external_account_required) says which directives to set.
  boost::asio::awaitable<result<std::string>> new_account(
      std::shared_ptr<const private_key> key, std::string email, bool agree_to_terms,
      std::optional<account_binding> binding = std::nullopt);
  /// RFC 8555 §7.3.1: finds the account of this key without creating one
  /// (account_does_not_exist if there is none), and uses it from then on.
  boost::asio::awaitable<result<std::string>> find_account(std::shared_ptr<const private_key> key);
  /// RFC 8555 §7.3.2: replaces the account's contact with `email` (none when empty).
  boost::asio::awaitable<result<void>> update_contact(std::string email);
  /// RFC 8555 §7.6: revokes the first certificate of `chain_pem` (the leaf), signed with
  /// the account key, giving the CRLReason `reason` (revocation_reason_code). Errors: the
  /// CA's (alreadyRevoked, unauthorized, badRevocationReason), or invalid_input when the
  /// chain holds no certificate.
  boost::asio::awaitable<result<void>> revoke_certificate(std::string chain_pem, int reason);
  /// RFC 8555 §7.3.5: the account in use is known by `new_key` from now on, the old key no
  /// longer. Requests of other coroutines signed with the old key before the CA answers may
  /// be refused (unauthorized); their orders fail and are retried. Errors: the CA's, or
  /// bad_response when its directory has no keyChange.
  boost::asio::awaitable<result<void>> change_key(std::shared_ptr<const private_key> new_key);
  /// A stored account whose key change may or may not have reached the CA (the daemon
  /// stopped before it stored the answer): uses whichever of the two keys the CA knows the
  /// account `account_url` by. Returns true when that is `new_key`.
  boost::asio::awaitable<result<bool>> settle_key_change(std::shared_ptr<const private_key> old_key,
                                                         std::shared_ptr<const private_key> new_key,
                                                         std::string account_url);
  /// Uses a known account (key and URL from storage) without asking the CA.
  void use_account(std::shared_ptr<const private_key> key, std::string account_url);
  bool has_account() const { return !account_url_.empty(); }
  const std::string& directory_url() const { return directory_url_; }
  const std::string& account_url() const { return account_url_; }

  /// RFC 8555 §7.4
  /// `replaces` (RFC 9773 §5, an ari_certificate_id; empty: none) is sent only when the
  /// directory offers renewalInfo; `profile` (draft-ietf-acme-profiles; empty: the CA's
  /// default) as given.
  boost::asio::awaitable<result<acme_order>> new_order(const std::vector<std::string>& domains,
                                                       std::string replaces = {},
                                                       std::string profile = {});
  boost::asio::awaitable<result<acme_order>> fetch_order(const std::string& url);
  /// RFC 8555 §7.5
  boost::asio::awaitable<result<acme_authorization>> fetch_authorization(const std::string& url);
  /// RFC 8555 §7.5.1: tells the CA the challenge is ready to be validated; returns the
  /// challenge as the CA answered it.
  boost::asio::awaitable<result<acme_challenge>> respond_to_challenge(
      const acme_challenge& challenge);
  /// Polls the challenge until it is valid; an invalid challenge is an error carrying
  /// the CA's validation detail for `identifier`. Polls the challenge, not its
  /// authorization: a valid challenge makes the authorization valid (RFC 8555 §7.1.6),
  /// and pebble 2.4 can deadlock when authorizations are fetched while new orders come
  /// in (its authorization handler holds the authorization's write lock while it looks
  /// up the account).
  boost::asio::awaitable<result<acme_challenge>> wait_for_challenge(const std::string& url,
                                                                    const std::string& identifier);
  /// RFC 8555 §7.4: sends the CSR (DER).
  boost::asio::awaitable<result<acme_order>> finalize(const acme_order& order,
                                                      const std::string& csr_der);
  /// Polls until the order is "valid" (or fails on "invalid"); returns the order. The
  /// first poll waits first_poll_delay too: a CA still issuing answers "processing",
  /// a signed request spent for nothing.
  boost::asio::awaitable<result<acme_order>> wait_for_order(const std::string& url);
  /// RFC 8555 §7.4.2: downloads the PEM chain; only CERTIFICATE blocks are accepted.
  boost::asio::awaitable<result<pem_chain>> download_certificate(const std::string& url);

  /// RFC 9773 §4.2: the CA's suggested renewal window of the certificate `cert_id`
  /// (ari_certificate_id), fetched with an unauthenticated GET, and the answer's
  /// Retry-After (when to ask again). A CA whose directory has no renewalInfo answers
  /// `offered = false` without a request. Errors: the CA does not know the certificate (404)
  /// or answers something unusable; the caller then keeps the fallback rule.
  boost::asio::awaitable<result<renewal_info_answer>> renewal_info(const std::string& cert_id);

  /// RFC 8555 §8.1: token || "." || base64url(JWK thumbprint of the account key).
  std::string key_authorization(const std::string& token) const;

  /// Requests answered with badNonce so far (they are retried, never surfaced).
  std::size_t bad_nonces_seen() const { return bad_nonces_seen_; }
  const http_client& http() const { return http_; }

 private:
  /// Every request to the CA: counted and timed by endpoint (core/metrics.hpp).
  boost::asio::awaitable<result<http_response>> send(metrics::ca_endpoint endpoint,
                                                     http_request req);
  /// A signed POST (payload nullopt: POST-as-GET) with badNonce retries. Answers
  /// with status >= 400 become errors.
  boost::asio::awaitable<result<http_response>> post(metrics::ca_endpoint endpoint,
                                                     const std::string& url,
                                                     const std::optional<nlohmann::json>& payload,
                                                     bool with_jwk = false,
                                                     const std::string& accept = {});
  boost::asio::awaitable<result<std::string>> take_nonce();
  boost::asio::awaitable<void> sleep(std::chrono::milliseconds delay);
  template <class T>
  using resource_parser = result<T> (*)(std::string_view url, std::string_view body);
  /// The final result once the polled resource is settled; nothing while it is pending.
  template <class T>
  using settle_check = std::function<std::optional<result<T>>(const T&)>;
  /// Fetches `url` until `settle` gives a result, backing off between polls (honouring
  /// Retry-After); after poll_timeout, a timeout error saying `too_slow`.
  template <class T>
  boost::asio::awaitable<result<T>> poll(metrics::ca_endpoint endpoint, const std::string& url,
                                         resource_parser<T> parse, settle_check<T> settle,
                                         std::string too_slow);
  std::chrono::milliseconds next_poll_delay(std::chrono::milliseconds current,
                                            const http_response& res) const;
  boost::asio::awaitable<result<std::string>> account_request(
      std::shared_ptr<const private_key> key, nlohmann::json payload);
  /// After a rateLimited answer to a new order, the orders waiting at the gate would
  /// get the same answer and each would count against the account's limits: until the
  /// answer's Retry-After (60 s without one) they fail here without reaching the CA.
  void hold_new_orders(const error& rate_limited);
  std::optional<error> new_orders_held() const;

  http_client& http_;
  std::string directory_url_;
  acme_client_options options_;
  std::optional<acme_directory> directory_;
  nonce_pool nonces_;
  std::optional<jws_signer> signer_;  ///< of the account key
  std::string account_url_;
  std::size_t bad_nonces_seen_ = 0;
  std::shared_ptr<ca_pacing> pacing_ = std::make_shared<ca_pacing>();
  std::chrono::steady_clock::time_point new_orders_held_until_{};
  error new_orders_held_because_;
};

}  // namespace certfleet::protocol
