#pragma once
// Everything certfleetd does on the network, on one Asio io_context run by its own
// thread: the ACME client, the port-80 responder, DNS and the self-check. Its API is
// callbacks, so the actors can drive it without including Beast (and without
// blocking): a callback runs on the io thread and must only hand its result on
// (e.g. caf::anon_send).

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocol/acme_client.hpp"
#include "protocol/acme_issuance.hpp"
#include "protocol/http01_server.hpp"
#include "protocol/http_client.hpp"

namespace certfleet::protocol {

struct io_engine_options {
  std::string directory_url;
  http_client_options http;
  acme_client_options acme;
  std::string http_listen = "0.0.0.0:80";  ///< the HTTP-01 responder
  std::vector<std::string> dns_servers;    ///< empty: the system's resolver
  unsigned short self_check_port = 80;
  http01_options responder;
};

/// The ACME account as stored: URL and PEM key.
struct account_credentials {
  std::string url;
  std::string key_pem;  ///< key material: never log
};

class io_engine {
 public:
  /// Binds the responder and starts the io thread. Errors: the listen address is
  /// taken or invalid, the CA bundle or DNS servers are unusable.
  static result<std::unique_ptr<io_engine>> start(io_engine_options options);
  ~io_engine();
  io_engine(const io_engine&) = delete;
  io_engine& operator=(const io_engine&) = delete;

  /// Acknowledges a stage; issuance continues (or stops, on error) when it is called.
  /// May be called from any thread.
  using ack = std::function<void(result<void>)>;
  using stage_handler =
      std::function<void(issuance_stage, const std::string& order_url, const std::string& key_pem, ack)>;

  void self_check(std::string domain, std::function<void(result<void>)> done);
  /// Uses the stored account when given (no CA request), else creates one with a new key.
  void account(std::optional<account_credentials> stored, std::string email, bool agree_to_terms,
               std::function<void(result<account_credentials>)> done);
  void issue(issuance_request request, stage_handler on_stage,
             std::function<void(result<issued_certificate>)> done);

  unsigned short http_port() const;
  /// The io thread's executor, for other servers that share it (the HTTPS listener).
  boost::asio::any_io_executor executor() const;
  std::uint64_t http_requests_served() const;

 private:
  struct impl;
  explicit io_engine(std::unique_ptr<impl> i);
  std::unique_ptr<impl> impl_;
};

}  // namespace certfleet::protocol
