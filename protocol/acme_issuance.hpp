#pragma once
// One certificate from start to finish over HTTP-01 (RFC 8555 §7.4-§7.4.2, §8.3):
// order, authorizations, challenges, CSR, finalize, download. Resumable: given the
// URL and key of an order saved earlier, it continues that order instead of
// creating a new one, so a restart never costs a second certificate.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "protocol/acme_client.hpp"
#include "protocol/crypto.hpp"

namespace certfleet::protocol {

/// Where HTTP-01 key authorizations are served while the CA validates
/// (the port-80 responder). Called on the acme_client's io_context thread.
class challenge_publisher {
 public:
  virtual ~challenge_publisher() = default;
  virtual void publish(const std::string& token, const std::string& key_authorization) = 0;
  virtual void withdraw(const std::string& token) = 0;
};

/// Milestones reported while a certificate is obtained.
enum class issuance_stage {
  order_created,        ///< the order exists at the CA; its URL and key must be saved
  challenge_submitted,  ///< the CA is validating
  finalizing,           ///< the CSR was sent
};

/// Called at each stage; the flow waits for the returned result, so a caller can
/// make the order URL and key durable before the certificate can be issued.
/// An error stops the flow.
using stage_callback = std::function<boost::asio::awaitable<result<void>>(
    issuance_stage stage, const std::string& order_url, const std::string& key_pem)>;

struct issuance_request {
  std::vector<std::string> domains;  ///< the first one is the CN
  key_type key = key_type::ec_p256;
  /// Continue this order (its URL and the certificate key saved for it).
  std::optional<std::string> resume_order_url;
  std::optional<std::string> resume_key_pem;
};

struct issued_certificate {
  std::string order_url;
  std::string chain_pem;
  std::string key_pem;  ///< key material: never log
  cert_info info;
};

boost::asio::awaitable<result<issued_certificate>> issue_certificate(
    acme_client& client, challenge_publisher& publisher, issuance_request request,
    stage_callback on_stage);

}  // namespace certfleet::protocol
