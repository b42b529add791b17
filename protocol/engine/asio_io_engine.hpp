#pragma once
// The io_engine on one Asio io_context run by its own thread: the ACME client, the
// port-80 responder, DNS and the self-check. Only the wiring (actors/system.cpp)
// and the tests include this header; the actors see io_engine.hpp.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocol/acme/client.hpp"
#include "protocol/acme/issuance.hpp"
#include "protocol/engine/io_engine.hpp"
#include "protocol/net/http01_server.hpp"
#include "protocol/net/http_client.hpp"

namespace certfleet::protocol {

struct io_engine_options {
  std::string directory_url;
  http_client_options http;
  acme_client_options acme;
  std::string http_listen = "0.0.0.0:80";  ///< the HTTP-01 responder
  std::vector<std::string> dns_servers;    ///< empty: the system's resolver
  unsigned short self_check_port = 80;
  unsigned short self_check_tls_port = 443;  ///< of a TLS-ALPN-01 self-check
  http01_options responder;
  /// In a cluster: makes the HTTP-01 tokens shared with the other nodes, on the engine's
  /// executor (called once, before the io thread starts); none when alone.
  std::function<std::unique_ptr<protocol::shared_tokens>(boost::asio::any_io_executor)>
      share_tokens;
};

/// What a reload may change in the self-check without a restart.
struct self_check_settings {
  std::vector<std::string> dns_servers;  ///< empty: the system's resolver
  unsigned short port = 80;
  unsigned short tls_port = 443;
};

class asio_io_engine final : public io_engine {
 public:
  /// Binds the responder and starts the io thread. Errors: the listen address is
  /// taken or invalid, the CA bundle or DNS servers are unusable.
  static result<std::unique_ptr<asio_io_engine>> start(io_engine_options options);
  ~asio_io_engine() override;
  asio_io_engine(const asio_io_engine&) = delete;
  asio_io_engine& operator=(const asio_io_engine&) = delete;

  void self_check(std::string domain, challenge_kind how,
                  std::function<void(result<void>)> done) override;
  void account(ca_role role, std::optional<account_credentials> stored, std::string email,
               bool agree_to_terms, std::optional<account_binding> binding,
               std::function<void(result<account_credentials>)> done) override;
  void issue(ca_role role, issuance_request request, stage_handler on_stage,
             std::function<void(result<issued_certificate>)> done) override;
  void renewal_info(ca_role role, std::string chain_pem,
                    std::function<void(result<renewal_info_answer>)> done) override;
  void check_profile(std::string profile, std::string directory_url, std::string ca_bundle,
                     std::function<void(result<void>)> done) override;
  void revoke(ca_role role, std::string chain_pem, int reason,
              std::function<void(result<void>)> done) override;
  void use_ca(ca_role role, std::string directory_url, std::string ca_bundle) override;
  void update_contact(ca_role role, std::string email,
                      std::function<void(result<void>)> done) override;
  void roll_over_key(std::function<void(const std::string& key_pem, ack)> before_change,
                     std::function<void(result<account_credentials>)> done) override;

  /// A reload's DNS servers and self-check ports, from the next self-check on; `done` (on the
  /// io thread) has the error when the new DNS servers are unusable, and the old ones stay.
  void use_self_check_settings(self_check_settings settings,
                               std::function<void(result<void>)> done);

  /// A reload's http_listen: the HTTP-01 responder moves there (bound before the old
  /// address closes); on error it stays where it was.
  result<void> use_http_listen(const std::string& address);

  unsigned short http_port() const;
  /// The io thread's executor, for other servers that share it (the HTTPS listener).
  boost::asio::any_io_executor executor() const;
  std::uint64_t http_requests_served() const;
  /// The TLS-ALPN-01 certificate published for `name` now, for the HTTPS listener.
  std::optional<alpn_answer> tls_alpn_answer(const std::string& name) const;

 private:
  struct impl;
  explicit asio_io_engine(std::unique_ptr<impl> i);
  std::unique_ptr<impl> impl_;
};

}  // namespace certfleet::protocol
