#pragma once
// HTTP-01 tokens currently being served, shared between whoever publishes them
// (the issuance flow, the self-check) and the port-80 responder.

#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

namespace certfleet::protocol {

/// Where HTTP-01 key authorizations are served while the CA validates
/// (the port-80 responder). Called on the acme_client's io_context thread.
class challenge_publisher {
 public:
  virtual ~challenge_publisher() = default;
  virtual void publish(const std::string& token, const std::string& key_authorization) = 0;
  virtual void withdraw(const std::string& token) = 0;
};

class token_store final : public challenge_publisher {
 public:
  void publish(const std::string& token, const std::string& key_authorization) override {
    std::unique_lock lock(mutex_);
    tokens_[token] = key_authorization;
  }
  void withdraw(const std::string& token) override {
    std::unique_lock lock(mutex_);
    tokens_.erase(token);
  }
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

 private:
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, std::string> tokens_;
};

}  // namespace certfleet::protocol
