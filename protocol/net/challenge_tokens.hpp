#pragma once
// HTTP-01 tokens and TLS-ALPN-01 certificates currently being served, shared between
// whoever publishes them (the issuance flow, the self-check) and the port-80 responder or
// the HTTPS listener.

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>

namespace certfleet::protocol {

/// HTTP-01 tokens shared by the nodes of a cluster (implemented in cluster/): the CA's
/// request may reach any node, so a token one node publishes must be found by all. Called
/// on the io thread of the token store that holds it.
class shared_tokens {
 public:
  virtual ~shared_tokens() = default;
  /// Makes the key authorization findable by every node; returns once it is, or once that
  /// failed (logged: the CA may then miss it, and the attempt is retried as any failure).
  virtual boost::asio::awaitable<void> publish(std::string token,
                                               std::string key_authorization) = 0;
  virtual void withdraw(std::string token) = 0;
  /// A token another node published: asked when this node does not hold it.
  virtual boost::asio::awaitable<std::optional<std::string>> find(std::string token) = 0;
};

/// Where HTTP-01 key authorizations are served while the CA validates
/// (the port-80 responder). Called on the acme_client's io_context thread.
class challenge_publisher {
 public:
  virtual ~challenge_publisher() = default;
  virtual void publish(const std::string& token, const std::string& key_authorization) = 0;
  virtual void withdraw(const std::string& token) = 0;
  /// TLS-ALPN-01 (RFC 8737): the certificate (PEM, with its key) the HTTPS listener answers
  /// an acme-tls/1 handshake for `domain` with, until withdrawn.
  virtual void publish_alpn(const std::string& domain, const std::string& cert_pem,
                            const std::string& key_pem) = 0;
  virtual void withdraw_alpn(const std::string& domain) = 0;
  /// Returns once a token published here can be found by whichever node the request for
  /// it reaches (at once on a single node).
  virtual boost::asio::awaitable<void> shared(std::string token, std::string key_authorization) = 0;
};

/// Something published for the CA (or the self-check) to find: withdrawn when this goes out
/// of scope, whatever the outcome of the validation.
class publication {
 public:
  /// HTTP-01: `key_authorization` served at /.well-known/acme-challenge/`token`.
  static publication token(challenge_publisher& p, std::string token,
                           const std::string& key_authorization) {
    p.publish(token, key_authorization);
    return publication([&p, token = std::move(token)] { p.withdraw(token); });
  }
  /// TLS-ALPN-01: the certificate an acme-tls/1 handshake for `domain` gets.
  static publication alpn(challenge_publisher& p, std::string domain, const std::string& cert_pem,
                          const std::string& key_pem) {
    p.publish_alpn(domain, cert_pem, key_pem);
    return publication([&p, domain = std::move(domain)] { p.withdraw_alpn(domain); });
  }
  publication(publication&& other) noexcept : withdraw_(std::exchange(other.withdraw_, {})) {}
  publication& operator=(publication&&) = delete;
  publication(const publication&) = delete;
  ~publication() {
    if (withdraw_) withdraw_();
  }

 private:
  explicit publication(std::function<void()> withdraw) : withdraw_(std::move(withdraw)) {}
  std::function<void()> withdraw_;
};

/// A TLS-ALPN-01 answer: a certificate and its key, PEM. The key is key material.
struct alpn_answer {
  std::string cert_pem;
  std::string key_pem;
};

class token_store final : public challenge_publisher {
 public:
  void publish(const std::string& token, const std::string& key_authorization) override {
    std::unique_lock lock(mutex_);
    tokens_[token] = key_authorization;
  }
  void withdraw(const std::string& token) override {
    {
      std::unique_lock lock(mutex_);
      tokens_.erase(token);
    }
    if (cluster_) cluster_->withdraw(token);
  }
  boost::asio::awaitable<void> shared(std::string token, std::string key_authorization) override {
    if (cluster_) co_await cluster_->publish(std::move(token), std::move(key_authorization));
  }
  /// In a cluster: tokens go to (and come from) the other nodes too. Set before use.
  void share_with(std::unique_ptr<shared_tokens> cluster) { cluster_ = std::move(cluster); }
  shared_tokens* cluster() const { return cluster_.get(); }
  std::optional<std::string> find(const std::string& token) const {
    std::shared_lock lock(mutex_);
    auto it = tokens_.find(token);
    if (it == tokens_.end()) return std::nullopt;
    return it->second;
  }
  std::size_t size() const {
    std::shared_lock lock(mutex_);
    return tokens_.size();
  }

  void publish_alpn(const std::string& domain, const std::string& cert_pem,
                    const std::string& key_pem) override {
    std::unique_lock lock(mutex_);
    alpn_[domain] = alpn_answer{cert_pem, key_pem};
  }
  void withdraw_alpn(const std::string& domain) override {
    std::unique_lock lock(mutex_);
    alpn_.erase(domain);
  }
  std::optional<alpn_answer> find_alpn(const std::string& domain) const {
    std::shared_lock lock(mutex_);
    auto it = alpn_.find(domain);
    if (it == alpn_.end()) return std::nullopt;
    return it->second;
  }

 private:
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, std::string> tokens_;
  std::unique_ptr<shared_tokens> cluster_;
  std::unordered_map<std::string, alpn_answer> alpn_;
};

}  // namespace certfleet::protocol
