#include "protocol/acme/client.hpp"

#include <boost/asio/use_awaitable.hpp>

#include "protocol/acme/eab.hpp"
#include "protocol/acme/jwk.hpp"
#include "protocol/acme/problem.hpp"
#include "protocol/crypto/base64url.hpp"

namespace certfleet::protocol {

namespace asio = boost::asio;
using json = nlohmann::json;

namespace {

constexpr const char* jose_json = "application/jose+json";
// GCC 12 mishandles temporaries created inside co_await expressions (double
// destruction), so coroutine arguments are always named objects.
const std::optional<json> post_as_get;  // RFC 8555 §6.3: empty payload

bool is_status(const std::string& status, std::initializer_list<const char*> any_of) {
  for (const char* s : any_of)
    if (status == s) return true;
  return false;
}

}  // namespace

acme_client::acme_client(http_client& http, std::string directory_url, acme_client_options options)
    : http_(http), directory_url_(std::move(directory_url)), options_(options) {}

asio::awaitable<void> acme_client::sleep(std::chrono::milliseconds delay) {
  co_await ca_pacing::poll_wait(pacing_, delay);
}

asio::awaitable<result<acme_directory>> acme_client::directory() {
  if (directory_) co_return *directory_;
  http_request req{.method = "GET", .url = directory_url_};
  auto res = co_await send(metrics::ca_endpoint::directory, std::move(req));
  if (!res) co_return std::move(res).err();
  nonces_.add(res->replay_nonce);
  if (res->status != 200) {
    co_return error{error_kind::bad_response,
                    "the ACME directory " + directory_url_ + " answered HTTP " +
                        std::to_string(res->status) + "; check acme_directory_url",
                    res->status >= 500};
  }
  // RFC 8555 §7.1.1: the directory is a JSON object. An HTML page (a proxy's or a
  // portal's) is not one, even when its text happens to parse.
  if (!res->content_type.empty() && res->content_type.find("json") == std::string::npos) {
    co_return error{error_kind::bad_response,
                    "the ACME directory " + directory_url_ + " answered with content type \"" +
                        res->content_type.substr(0, 100) +
                        "\" instead of JSON; check acme_directory_url",
                    true};
  }
  auto dir = parse_directory(res->body);
  if (dir) directory_ = *dir;
  co_return dir;
}

asio::awaitable<result<std::string>> acme_client::take_nonce() {
  if (auto n = nonces_.take()) co_return *n;
  auto dir = co_await directory();
  if (!dir) co_return std::move(dir).err();
  // RFC 8555 §7.2: HEAD newNonce
  http_request req{.method = "HEAD", .url = dir->new_nonce};
  auto res = co_await send(metrics::ca_endpoint::new_nonce, std::move(req));
  if (!res) co_return std::move(res).err();
  if (res->replay_nonce.empty()) {
    co_return error{error_kind::bad_response, "the CA's newNonce answered without a Replay-Nonce",
                    true};
  }
  co_return res->replay_nonce;
}

asio::awaitable<result<http_response>> acme_client::send(metrics::ca_endpoint endpoint,
                                                         http_request req) {
  const auto begin = std::chrono::steady_clock::now();
  auto res = co_await http_.request(std::move(req));
  metrics::count_ca_request(endpoint, res ? res->status : 0,
                            std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::steady_clock::now() - begin));
  co_return res;
}

asio::awaitable<result<http_response>> acme_client::post(metrics::ca_endpoint endpoint,
                                                         const std::string& url,
                                                         const std::optional<json>& payload,
                                                         bool with_jwk, const std::string& accept) {
  if (!signer_) {
    co_return error{error_kind::internal, "ACME request before an account key was set"};
  }
  for (int attempt = 0;; ++attempt) {
    auto nonce = co_await take_nonce();
    if (!nonce) co_return std::move(nonce).err();
    const std::optional<std::string> kid =
        with_jwk ? std::nullopt : std::optional<std::string>(account_url_);
    auto body = signer_->sign(url, *nonce, kid, payload);
    if (!body) co_return std::move(body).err();
    http_request req{
        .method = "POST", .url = url, .content_type = jose_json, .body = *body, .accept = accept};
    auto res = co_await send(endpoint, std::move(req));
    pacing_->wake_due();
    if (!res) co_return std::move(res).err();
    nonces_.add(res->replay_nonce);
    if (res->status < 400) co_return res;

    auto problem = parse_problem(res->status, res->content_type, res->body, res->retry_after,
                                 timestamp{std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())});
    // RFC 8555 §6.5: a badNonce is answered with a fresh nonce; try again with it.
    if (problem.kind == error_kind::bad_nonce && attempt < options_.bad_nonce_budget) {
      ++bad_nonces_seen_;
      continue;
    }
    co_return problem;
  }
}

asio::awaitable<result<std::string>> acme_client::account_request(
    std::shared_ptr<const private_key> key, json payload) {
  auto dir = co_await directory();
  if (!dir) co_return std::move(dir).err();
  signer_.emplace(*key);
  account_url_.clear();
  auto res = co_await post(metrics::ca_endpoint::new_account, dir->new_account, payload,
                           /*with_jwk=*/true);
  if (!res) co_return std::move(res).err();
  if (res->location.empty()) {
    co_return error{error_kind::bad_response, "the CA created an account but sent no Location",
                    true};
  }
  account_url_ = res->location;
  co_return account_url_;
}

asio::awaitable<result<std::string>> acme_client::new_account(
    std::shared_ptr<const private_key> key, std::string email, bool agree_to_terms,
    std::optional<account_binding> binding) {
  // RFC 8555 §7.3
  json payload;
  payload["termsOfServiceAgreed"] = agree_to_terms;
  if (!email.empty()) payload["contact"] = json::array({"mailto:" + email});
  auto dir = co_await directory();
  if (!dir) co_return std::move(dir).err();
  const std::string how =
      "set acme_eab_kid and acme_eab_hmac_key (from your account at the CA) in certfleet.conf, "
      "then run certfleet reload";
  if (binding) {
    auto eab = external_account_binding(*binding, jwk_json(*key), dir->new_account);
    if (!eab) co_return std::move(eab).err();
    payload["externalAccountBinding"] = std::move(*eab);
  } else if (dir->external_account_required) {
    co_return error{error_kind::external_account_required,
                    "the CA at " + directory_url_ +
                        " requires External Account Binding for new accounts: " + how,
                    false};
  }
  auto url = co_await account_request(std::move(key), std::move(payload));
  if (!url && url.err().kind == error_kind::external_account_required && !binding) {
    error e = url.err();
    e.detail += "; " + how;
    co_return e;
  }
  co_return url;
}

asio::awaitable<result<std::string>> acme_client::find_account(
    std::shared_ptr<const private_key> key) {
  // RFC 8555 §7.3.1
  json payload;
  payload["onlyReturnExisting"] = true;
  co_return co_await account_request(std::move(key), std::move(payload));
}

asio::awaitable<result<void>> acme_client::update_contact(std::string email) {
  if (account_url_.empty())
    co_return error{error_kind::internal, "no ACME account to update (a bug)"};
  json payload;
  payload["contact"] = email.empty() ? json::array() : json::array({"mailto:" + email});
  auto res = co_await post(metrics::ca_endpoint::account, account_url_, payload);
  if (!res) co_return std::move(res).err();
  co_return result<void>{};
}

asio::awaitable<result<void>> acme_client::revoke_certificate(std::string chain_pem, int reason) {
  auto leaf = certificate::from_pem(chain_pem);
  if (!leaf) co_return std::move(leaf).err();
  auto dir = co_await directory();
  if (!dir) co_return std::move(dir).err();
  if (dir->revoke_cert.empty())
    co_return error{error_kind::bad_response,
                    "the CA's directory at " + directory_url_ + " has no revokeCert", false};
  json payload;
  payload["certificate"] = base64url::encode(leaf->der());
  payload["reason"] = reason;
  auto res = co_await post(metrics::ca_endpoint::revoke, dir->revoke_cert, payload);
  if (!res) co_return std::move(res).err();
  co_return result<void>{};
}

asio::awaitable<result<void>> acme_client::change_key(std::shared_ptr<const private_key> new_key) {
  if (!signer_ || account_url_.empty())
    co_return error{error_kind::internal, "no ACME account whose key could change (a bug)"};
  auto dir = co_await directory();
  if (!dir) co_return std::move(dir).err();
  if (dir->key_change.empty())
    co_return error{error_kind::bad_response,
                    "the CA at " + directory_url_ +
                        " offers no account key rollover (its directory has no keyChange)",
                    false};
  // RFC 8555 §7.3.5: the new key signs the account and the old key; the old key signs that.
  jws_signer next(*new_key);
  const json binding{{"account", account_url_}, {"oldKey", signer_->jwk()}};
  auto inner = next.sign_key_change(dir->key_change, binding);
  if (!inner) co_return std::move(inner).err();
  auto res = co_await post(metrics::ca_endpoint::key_change, dir->key_change, json::parse(*inner));
  if (!res) co_return std::move(res).err();
  signer_.emplace(std::move(next));
  co_return result<void>{};
}

asio::awaitable<result<bool>> acme_client::settle_key_change(
    std::shared_ptr<const private_key> old_key, std::shared_ptr<const private_key> new_key,
    std::string account_url) {
  auto found = co_await find_account(std::move(new_key));
  if (found && *found == account_url) co_return true;
  use_account(std::move(old_key), account_url);
  if (!found && found.err().kind != error_kind::account_does_not_exist)
    co_return std::move(found).err();
  co_return false;
}

void acme_client::use_account(std::shared_ptr<const private_key> key, std::string account_url) {
  signer_.emplace(*key);
  account_url_ = std::move(account_url);
}

std::string acme_client::key_authorization(const std::string& token) const {
  return signer_ ? token + "." + signer_->thumbprint() : token + ".";
}

asio::awaitable<result<acme_order>> acme_client::new_order(const std::vector<std::string>& domains,
                                                           std::string replaces,
                                                           std::string profile) {
  auto dir = co_await directory();
  if (!dir) co_return std::move(dir).err();
  json ids = json::array();
  for (const auto& d : domains) ids.push_back({{"type", "dns"}, {"value", d}});
  json payload;  // GCC 12 miscompiles braced json temporaries inside co_await
  payload["identifiers"] = std::move(ids);
  if (!replaces.empty() && !dir->renewal_info.empty()) payload["replaces"] = std::move(replaces);
  if (!profile.empty()) payload["profile"] = std::move(profile);
  const auto pass = co_await ca_pacing::enter_gate(pacing_);
  if (auto held = new_orders_held()) co_return std::move(*held);
  auto res = co_await post(metrics::ca_endpoint::new_order, dir->new_order, payload);
  if (!res) {
    if (res.err().kind == error_kind::rate_limited) hold_new_orders(res.err());
    co_return std::move(res).err();
  }
  if (res->location.empty()) {
    co_return error{error_kind::bad_response, "the CA created an order but sent no Location", true};
  }
  co_return parse_order(res->location, res->body);
}

void acme_client::hold_new_orders(const error& rate_limited) {
  const auto pause = rate_limited.retry_after.value_or(std::chrono::seconds(60));
  new_orders_held_until_ = std::chrono::steady_clock::now() + pause;
  new_orders_held_because_ = rate_limited;
}

std::optional<error> acme_client::new_orders_held() const {
  const auto now = std::chrono::steady_clock::now();
  if (now >= new_orders_held_until_) return std::nullopt;
  error e = new_orders_held_because_;
  e.retry_after = std::chrono::ceil<std::chrono::seconds>(new_orders_held_until_ - now);
  e.detail += " (this order was not sent: the CA's Retry-After has not passed)";
  return e;
}

asio::awaitable<result<acme_order>> acme_client::fetch_order(const std::string& url) {
  auto res = co_await post(metrics::ca_endpoint::order, url, post_as_get);
  if (!res) co_return std::move(res).err();
  co_return parse_order(url, res->body);
}

asio::awaitable<result<acme_authorization>> acme_client::fetch_authorization(
    const std::string& url) {
  const auto pass = co_await ca_pacing::enter_gate(pacing_);
  auto res = co_await post(metrics::ca_endpoint::authorization, url, post_as_get);
  if (!res) co_return std::move(res).err();
  co_return parse_authorization(url, res->body);
}

asio::awaitable<result<acme_challenge>> acme_client::respond_to_challenge(
    const acme_challenge& challenge) {
  // RFC 8555 §7.5.1: the payload is an empty JSON object.
  const std::optional<json> empty_object = json::object();
  auto res = co_await post(metrics::ca_endpoint::challenge, challenge.url, empty_object);
  if (!res) co_return std::move(res).err();
  co_return parse_challenge(challenge.url, res->body);
}

asio::awaitable<result<renewal_info_answer>> acme_client::renewal_info(const std::string& cert_id) {
  auto dir = co_await directory();
  if (!dir) co_return std::move(dir).err();
  if (dir->renewal_info.empty()) co_return renewal_info_answer{.offered = false};
  http_request req{.method = "GET", .url = dir->renewal_info + "/" + cert_id};
  auto res = co_await send(metrics::ca_endpoint::renewal_info, std::move(req));
  if (!res) co_return std::move(res).err();
  if (res->status != 200) {
    co_return error{error_kind::bad_response,
                    "the CA's renewal information for certificate " + cert_id + " answered HTTP " +
                        std::to_string(res->status) +
                        (res->status == 404 ? " (the CA does not know this certificate)" : ""),
                    res->status >= 500};
  }
  auto window = parse_renewal_info(res->body);
  if (!window) co_return std::move(window).err();
  const auto now = timestamp{std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::system_clock::now().time_since_epoch())};
  co_return renewal_info_answer{true, std::move(*window), parse_retry_after(res->retry_after, now)};
}

std::chrono::milliseconds acme_client::next_poll_delay(std::chrono::milliseconds current,
                                                       const http_response& res) const {
  auto now = timestamp{std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::system_clock::now().time_since_epoch())};
  if (auto after = parse_retry_after(res.retry_after, now)) {
    return std::min<std::chrono::milliseconds>(*after, options_.max_poll_delay * 10);
  }
  return std::min(current * 2, options_.max_poll_delay);
}

// RFC 8555 §7.5.1: a resource still "pending" or "processing" is fetched again
// (POST-as-GET) after a growing delay; `settle` decides when it is done.
template <class T>
asio::awaitable<result<T>> acme_client::poll(metrics::ca_endpoint endpoint, const std::string& url,
                                             resource_parser<T> parse, settle_check<T> settle,
                                             std::string too_slow) {
  const auto deadline = std::chrono::steady_clock::now() + options_.poll_timeout;
  auto delay = options_.first_poll_delay;
  while (true) {
    co_await sleep(delay);
    auto res = co_await post(endpoint, url, post_as_get);
    if (!res) co_return std::move(res).err();
    auto resource = parse(url, res->body);
    if (!resource) co_return resource;
    if (auto settled = settle(*resource)) co_return std::move(*settled);
    if (std::chrono::steady_clock::now() > deadline) {
      co_return error{error_kind::timeout, std::move(too_slow), true};
    }
    delay = next_poll_delay(delay, *res);
  }
}

asio::awaitable<result<acme_challenge>> acme_client::wait_for_challenge(
    const std::string& url, const std::string& identifier) {
  settle_check<acme_challenge> settle =
      [&identifier](const acme_challenge& challenge) -> std::optional<result<acme_challenge>> {
    if (challenge.status == "valid") return challenge;
    if (is_status(challenge.status, {"pending", "processing"})) return std::nullopt;
    return error{
        error_kind::unauthorized,
        "validation of " + identifier + " failed (" + challenge.status + "): " +
            (challenge.error_detail.empty() ? "no detail from the CA" : challenge.error_detail) +
            ". Check that port 80 of this domain reaches this host",
        true};
  };
  std::string too_slow = "the CA did not finish validating " + identifier + " in time";
  co_return co_await poll<acme_challenge>(metrics::ca_endpoint::challenge, url, parse_challenge,
                                          settle, std::move(too_slow));
}

asio::awaitable<result<acme_order>> acme_client::finalize(const acme_order& order,
                                                          const std::string& csr_der) {
  // RFC 8555 §7.4: the CSR is base64url DER
  json payload;
  payload["csr"] = base64url::encode(csr_der);
  auto res = co_await post(metrics::ca_endpoint::finalize, order.finalize, payload);
  if (!res) co_return std::move(res).err();
  co_return parse_order(order.url, res->body);
}

asio::awaitable<result<acme_order>> acme_client::wait_for_order(const std::string& url) {
  settle_check<acme_order> settle =
      [&url](const acme_order& order) -> std::optional<result<acme_order>> {
    if (order.status == "valid") {
      if (order.certificate.empty()) {
        return error{error_kind::bad_response, "the CA's valid order has no certificate URL", true};
      }
      return order;
    }
    if (order.status == "invalid") {
      return error{error_kind::unauthorized, "the CA marked the order " + url + " invalid", true};
    }
    return std::nullopt;  // pending, ready or processing
  };
  std::string too_slow = "the CA did not issue the certificate in time";
  co_return co_await poll<acme_order>(metrics::ca_endpoint::order, url, parse_order, settle,
                                      std::move(too_slow));
}

asio::awaitable<result<pem_chain>> acme_client::download_certificate(const std::string& url) {
  auto res = co_await post(metrics::ca_endpoint::certificate, url, post_as_get, false,
                           "application/pem-certificate-chain");
  if (!res) co_return std::move(res).err();
  co_return split_pem_chain(res->body);
}

}  // namespace certfleet::protocol
