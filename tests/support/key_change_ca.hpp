#pragma once
// A scripted ACME CA on loopback for account key rollover (RFC 8555 §7.3.5): a directory
// with keyChange, nonces, newAccount (finds "the account" /acct/1 by the key the last
// rollover moved it to; by no key before one) and keyChange (records the request, moves the
// account). Used by the ACME client's and the io engine's unit tests.

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "protocol/crypto/base64url.hpp"
#include "tests/support/net_test_support.hpp"

namespace certfleet::testing::net {

class key_change_ca {
 public:
  key_change_ca() : peer_([this](tcp::socket& s, int) { serve(s); }) {}

  std::string directory_url() { return peer_.url("/dir"); }
  std::string account_url() { return peer_.url("/acct/1"); }
  int key_changes() const { return key_changes_; }
  /// The JWK (JSON text) the account is known by: the last key change's new key.
  std::string account_jwk() {
    std::lock_guard lock(mutex_);
    return account_jwk_;
  }
  /// The last keyChange request's outer and inner protected headers and inner payload.
  nlohmann::json last_outer_header, last_inner_header, last_inner_payload;

 private:
  static nlohmann::json decoded(const std::string& b64) {
    return nlohmann::json::parse(protocol::base64url::decode(b64).value());
  }
  static std::string reply(const std::string& status, const std::string& extra,
                           const std::string& body) {
    return "HTTP/1.1 " + status + "\r\nReplay-Nonce: n\r\nContent-Type: application/json\r\n" +
           extra + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }
  void serve(tcp::socket& s) {
    std::string buffer;
    while (auto req = read_request(s, buffer)) {
      const std::string base = peer_.url("");
      const std::string body = req->substr(req->find("\r\n\r\n") + 4);
      if (req->starts_with("GET /dir ")) {
        send(s, reply("200 OK", "",
                      R"({"newNonce":")" + base + R"(/nonce","newAccount":")" + base +
                          R"(/acct","newOrder":")" + base + R"(/order","keyChange":")" + base +
                          R"(/kc"})"));
      } else if (req->starts_with("HEAD /nonce ")) {
        send(s, "HTTP/1.1 200 OK\r\nReplay-Nonce: n\r\nContent-Length: 0\r\n\r\n");
      } else if (req->starts_with("POST /acct ")) {
        // onlyReturnExisting: found when signed with the key the account is known by.
        const auto jwk = decoded(nlohmann::json::parse(body).at("protected")).at("jwk").dump();
        std::lock_guard lock(mutex_);
        if (!account_jwk_.empty() && jwk == account_jwk_)
          send(s, reply("200 OK", "Location: " + base + "/acct/1\r\n", R"({"status":"valid"})"));
        else
          send(s, reply("400 Bad Request", "",
                        R"({"type":"urn:ietf:params:acme:error:accountDoesNotExist"})"));
      } else if (req->starts_with("POST /kc ")) {
        const auto outer = nlohmann::json::parse(body);
        const auto inner = nlohmann::json::parse(
            protocol::base64url::decode(outer.at("payload").get<std::string>()).value());
        {
          std::lock_guard lock(mutex_);
          last_outer_header = decoded(outer.at("protected"));
          last_inner_header = decoded(inner.at("protected"));
          last_inner_payload = decoded(inner.at("payload"));
          account_jwk_ = last_inner_header.at("jwk").dump();
        }
        ++key_changes_;
        send(s, reply("200 OK", "", R"({"status":"valid"})"));
      } else {
        send(s, reply("404 Not Found", "", "{}"));
      }
    }
  }

  std::mutex mutex_;
  std::string account_jwk_;  ///< empty before a key change: no key finds the account
  std::atomic<int> key_changes_{0};
  fake_peer peer_;
};

}  // namespace certfleet::testing::net
