#include "cluster/state_codec.hpp"

#include <cstdio>

#include "protocol/crypto/key.hpp"
#include "storage/record_codec.hpp"

namespace certfleet::cluster {

namespace {

std::string hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

// Seals `pem` in place (empty stays empty: no key to hide).
result<void> seal_in_place(const protocol::sealing_key& key, const std::string& name,
                           std::string& pem) {
  if (pem.empty()) return {};
  auto sealed = protocol::seal(key, name, pem);
  if (!sealed) return sealed.err();
  pem = std::move(*sealed);
  return {};
}

result<void> open_in_place(const protocol::sealing_key& key, const std::string& name,
                           std::string& sealed) {
  if (sealed.empty()) return {};
  auto pem = protocol::open_sealed(key, name, sealed);
  if (!pem) return pem.err();
  sealed = std::move(*pem);
  return {};
}

error damaged(const std::string& etcd_key, const error& e) {
  return error{error_kind::bad_response,
               "the cluster's entry " + etcd_key + " in etcd is not usable: " + e.detail};
}

}  // namespace

cluster_keys::cluster_keys(std::string_view cluster_name)
    : prefix_("/certfleet/" + std::string(cluster_name) + "/") {}

std::string cluster_keys::account(std::string_view directory_url) const {
  return accounts() + hex(protocol::sha256(directory_url));
}
std::string cluster_keys::budget(std::string_view directory_url) const {
  return budgets() + hex(protocol::sha256(directory_url));
}

std::string encode_domain(const storage::domain_record& r) { return storage::encode(r); }
std::string encode_budget(const storage::budget_record& r) { return storage::encode(r); }

std::string expiry_prefix(timestamp not_after) {
  char digits[24];
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(not_after.time_since_epoch()).count();
  std::snprintf(digits, sizeof digits, "%020lld|", static_cast<long long>(micros < 0 ? 0 : micros));
  return digits;
}

result<std::string> seal_certs(const protocol::sealing_key& key, const std::string& etcd_key,
                               storage::cert_pair pair) {
  if (auto r = seal_in_place(key, etcd_key + "#current", pair.current.key_pem); !r) return r.err();
  if (pair.previous)
    if (auto r = seal_in_place(key, etcd_key + "#previous", pair.previous->key_pem); !r)
      return r.err();
  return expiry_prefix(pair.current.not_after) + storage::encode(pair);
}

result<storage::cert_pair> open_certs(const protocol::sealing_key& key, const std::string& etcd_key,
                                      std::string_view value) {
  const std::size_t bar = value.find('|');
  if (bar != 20) return damaged(etcd_key, error{error_kind::invalid_input, "no expiry prefix"});
  auto pair = storage::decode_cert_pair(value.substr(bar + 1));
  if (!pair) return damaged(etcd_key, pair.err());
  if (auto r = open_in_place(key, etcd_key + "#current", pair->current.key_pem); !r) return r.err();
  if (pair->previous)
    if (auto r = open_in_place(key, etcd_key + "#previous", pair->previous->key_pem); !r)
      return r.err();
  return pair;
}

result<std::string> seal_order(const protocol::sealing_key& key, const std::string& etcd_key,
                               storage::pending_order_record order) {
  if (auto r = seal_in_place(key, etcd_key, order.key_pem); !r) return r.err();
  return storage::encode(order);
}

result<storage::pending_order_record> open_order(const protocol::sealing_key& key,
                                                 const std::string& etcd_key,
                                                 std::string_view value) {
  auto order = storage::decode_pending_order(value);
  if (!order) return damaged(etcd_key, order.err());
  if (auto r = open_in_place(key, etcd_key, order->key_pem); !r) return r.err();
  return order;
}

result<std::string> seal_account(const protocol::sealing_key& key, const std::string& etcd_key,
                                 storage::account_record account) {
  if (auto r = seal_in_place(key, etcd_key + "#key", account.key_pem); !r) return r.err();
  if (auto r = seal_in_place(key, etcd_key + "#next_key", account.next_key_pem); !r) return r.err();
  return storage::encode(account);
}

result<storage::account_record> open_account(const protocol::sealing_key& key,
                                             const std::string& etcd_key, std::string_view value) {
  auto account = storage::decode_account(value);
  if (!account) return damaged(etcd_key, account.err());
  if (auto r = open_in_place(key, etcd_key + "#key", account->key_pem); !r) return r.err();
  if (auto r = open_in_place(key, etcd_key + "#next_key", account->next_key_pem); !r)
    return r.err();
  return account;
}

}  // namespace certfleet::cluster
