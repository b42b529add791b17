#include "protocol/acme/issuance.hpp"

#include "core/log.hpp"

namespace certfleet::protocol {

namespace asio = boost::asio;

namespace {

// What the CA checks, published from when the challenge is answered until it is decided.
result<publication> serve_answer(challenge_publisher& publisher, const acme_client& client,
                                 const acme_challenge& challenge, const std::string& identifier,
                                 challenge_kind kind) {
  const std::string key_authorization = client.key_authorization(challenge.token);
  if (kind == challenge_kind::http_01)
    return publication::token(publisher, challenge.token, key_authorization);
  // A throwaway key: the certificate only proves the key authorization.
  auto key = private_key::generate(key_type::ec_p256);
  if (!key) return std::move(key).err();
  auto cert = make_self_signed_pem(*key, identifier, std::chrono::hours(24), wall_clock{}.now(),
                                   tls_alpn_digest(key_authorization));
  if (!cert) return std::move(cert).err();
  return publication::alpn(publisher, identifier, *cert, key->to_pem());
}

asio::awaitable<result<void>> authorize(acme_client& client, challenge_publisher& publisher,
                                        const std::string& authz_url,
                                        const stage_callback& on_stage, const acme_order& order,
                                        const std::string& key_pem, challenge_kind kind) {
  auto authz = co_await client.fetch_authorization(authz_url);
  if (!authz) co_return std::move(authz).err();
  if (authz->status == "valid") co_return result<void>{};  // reused authorization
  if (authz->status != "pending") {
    co_return error{error_kind::unauthorized,
                    "the CA's authorization for " + authz->identifier + " is " + authz->status +
                        (authz->error_detail.empty() ? "" : ": " + authz->error_detail),
                    true};
  }
  const std::string type = challenge_name(kind);
  const acme_challenge* chosen = nullptr;
  for (const auto& c : authz->challenges)
    if (c.type == type) chosen = &c;
  if (chosen == nullptr || chosen->token.empty()) {
    co_return error{error_kind::unsupported_identifier,
                    "the CA offers no " + type + " challenge for " + authz->identifier +
                        "; set challenge_type to one it offers"};
  }
  auto served = serve_answer(publisher, client, *chosen, authz->identifier, kind);
  if (!served) co_return std::move(served).err();
  // In a cluster the CA's request may reach another node: it must find the token there.
  if (kind == challenge_kind::http_01) {
    std::string token = chosen->token;
    std::string key_authorization = client.key_authorization(chosen->token);
    co_await publisher.shared(std::move(token), std::move(key_authorization));
  }
  std::string status = chosen->status;
  if (status == "pending") {
    auto responded = co_await client.respond_to_challenge(*chosen);
    if (!responded) co_return std::move(responded).err();
    status = responded->status;
  }
  auto staged = co_await on_stage(issuance_stage::challenge_submitted, order.url, key_pem);
  if (!staged) co_return staged;
  if (status == "valid") co_return result<void>{};
  auto done = co_await client.wait_for_challenge(chosen->url, authz->identifier);
  if (!done) co_return std::move(done).err();
  co_return result<void>{};
}

// RFC 8555 §7.4: sends the CSR. The order is normally ready once its authorizations
// are valid (§7.1.6); a CA that has not caught up yet answers orderNotReady, and the
// order is then fetched once to see where it stands.
asio::awaitable<result<acme_order>> finalize_order(acme_client& client, const acme_order& order,
                                                   const std::string& csr_der) {
  auto finalized = co_await client.finalize(order, csr_der);
  if (finalized || finalized.err().kind != error_kind::order_not_ready) co_return finalized;
  auto current = co_await client.fetch_order(order.url);
  if (!current) co_return current;
  if (current->status == "ready") co_return co_await client.finalize(*current, csr_der);
  if (current->status == "processing" || current->status == "valid") co_return current;
  co_return std::move(finalized).err();
}

// The order to work on: the saved one when it can still be used, else a new one.
asio::awaitable<result<acme_order>> open_order(acme_client& client, const issuance_request& req,
                                               bool& created) {
  created = false;
  if (req.resume_order_url && !req.resume_order_url->empty()) {
    auto order = co_await client.fetch_order(*req.resume_order_url);
    if (order && order->status != "invalid") co_return order;
  }
  created = true;
  std::string replaces;
  if (!req.replaced_chain_pem.empty()) {
    auto id = ari_certificate_id_of(req.replaced_chain_pem);
    if (id)
      replaces = std::move(*id);
    else
      log_warning("acme: " + req.domains.at(0) + ": the certificate being renewed has no ARI " +
                  "identifier (" + id.err().detail + "); ordering without \"replaces\"");
  }
  auto order = co_await client.new_order(req.domains, replaces, req.profile);
  if (order || order.err().kind != error_kind::already_replaced || replaces.empty())
    co_return order;
  // RFC 9773 §5: another order already replaces that certificate (an earlier attempt of
  // ours whose answer was lost, or another client): ask once more without `replaces`.
  log_info("acme: " + req.domains.at(0) + ": the CA says certificate " + replaces +
           " was already replaced; ordering without \"replaces\"");
  co_return co_await client.new_order(req.domains, std::string{}, req.profile);
}

}  // namespace

asio::awaitable<result<issued_certificate>> issue_certificate(acme_client& client,
                                                              challenge_publisher& publisher,
                                                              issuance_request request,
                                                              stage_callback on_stage) {
  bool created = false;
  auto order = co_await open_order(client, request, created);
  if (!order) co_return std::move(order).err();

  // A resumed order keeps its saved key; a new order gets a new key, saved with it.
  std::optional<private_key> key;
  if (!created && request.resume_key_pem) {
    auto loaded = private_key::from_pem(*request.resume_key_pem);
    if (loaded) key.emplace(std::move(loaded.value()));
  }
  if (!key) {
    auto fresh = private_key::generate(request.key);
    if (!fresh) co_return std::move(fresh).err();
    key.emplace(std::move(fresh.value()));
    created = true;
  }
  // A resumed order's key is already PEM: no need to encode it again.
  const std::string key_pem = created ? key->to_pem() : *request.resume_key_pem;
  if (created) {
    auto saved = co_await on_stage(issuance_stage::order_created, order->url, key_pem);
    if (!saved) co_return std::move(saved).err();
  }

  if (order->status == "pending") {
    for (const auto& authz_url : order->authorizations) {
      auto ok = co_await authorize(client, publisher, authz_url, on_stage, *order, key_pem,
                                   request.challenge);
      if (!ok) co_return std::move(ok).err();
    }
    // Every authorization is valid: the order is ready (RFC 8555 §7.1.6), no need to ask.
    order->status = "ready";
  }
  if (order->status == "ready") {
    auto staged = co_await on_stage(issuance_stage::csr_submitted, order->url, key_pem);
    if (!staged) co_return std::move(staged).err();
    auto csr = make_csr_der(*key, request.domains);
    if (!csr) co_return std::move(csr).err();
    auto finalized = co_await finalize_order(client, *order, *csr);
    if (!finalized) co_return std::move(finalized).err();
    order = std::move(finalized);
  } else if (order->status != "processing" && order->status != "valid") {
    co_return error{error_kind::unauthorized,
                    "the CA's order is " + order->status + " and cannot be finalized", true};
  }
  // A CA that issues at once answers with the valid order: nothing to poll.
  if (order->status != "valid" || order->certificate.empty()) {
    const std::string order_url = order->url;
    order = co_await client.wait_for_order(order_url);
    if (!order) co_return std::move(order).err();
  }
  auto chain = co_await client.download_certificate(order->certificate);
  if (!chain) co_return std::move(chain).err();
  if (!chain->leaf.holds_key(*key)) {
    co_return error{error_kind::bad_response,
                    "the CA issued a certificate for " + order->url +
                        " that does not match the key saved for that order",
                    true};
  }
  co_return issued_certificate{order->url, chain->joined(), key_pem, chain->leaf.info()};
}

}  // namespace certfleet::protocol
