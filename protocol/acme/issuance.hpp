#pragma once
// One certificate from start to finish over HTTP-01 (RFC 8555 §7.4-§7.4.2, §8.3):
// order, authorizations, challenges, CSR, finalize, download. Resumable: given the
// URL and key of an order saved earlier, it continues that order instead of
// creating a new one, so a restart never costs a second certificate.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "protocol/acme/client.hpp"
#include "protocol/acme/issuance_types.hpp"
#include "protocol/crypto/crypto.hpp"
#include "protocol/net/challenge_tokens.hpp"

namespace certfleet::protocol {

/// Called at each stage; the flow waits for the returned result, so a caller can
/// make the order URL and key durable before the certificate can be issued.
/// An error stops the flow.
using stage_callback = std::function<boost::asio::awaitable<result<void>>(
    issuance_stage stage, const std::string& order_url, const std::string& key_pem)>;

boost::asio::awaitable<result<issued_certificate>> issue_certificate(acme_client& client,
                                                                     challenge_publisher& publisher,
                                                                     issuance_request request,
                                                                     stage_callback on_stage);

}  // namespace certfleet::protocol
