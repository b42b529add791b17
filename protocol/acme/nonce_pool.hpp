#pragma once
// Replay-Nonce values saved from every CA response, so most signed requests need
// no extra round trip to newNonce (RFC 8555 §7.2).

#include <cstddef>
#include <deque>
#include <optional>
#include <string>

namespace certfleet::protocol {

class nonce_pool {
 public:
  explicit nonce_pool(std::size_t capacity = 256) : capacity_(capacity) {}

  /// Keeps a nonce from a response; the oldest is dropped when full (old nonces
  /// are the likeliest to have expired at the CA).
  void add(std::string nonce) {
    if (nonce.empty()) return;
    if (nonces_.size() == capacity_) nonces_.pop_front();
    nonces_.push_back(std::move(nonce));
  }

  /// The freshest nonce, if any. Each nonce is handed out once.
  std::optional<std::string> take() {
    if (nonces_.empty()) return std::nullopt;
    std::string n = std::move(nonces_.back());
    nonces_.pop_back();
    return n;
  }

  std::size_t size() const { return nonces_.size(); }

 private:
  std::size_t capacity_;
  std::deque<std::string> nonces_;
};

}  // namespace certfleet::protocol
