#pragma once
// Where a cluster keeps each record in etcd, and how: the storage record codec's bytes,
// with every private key sealed under the cluster key (the etcd key name as associated
// data) so that etcd never holds a plaintext key. See docs/cluster.md for the key table.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "protocol/crypto/sealed.hpp"
#include "storage/records.hpp"

namespace certfleet::cluster {

/// The etcd keys of one cluster ("/certfleet/NAME/...").
class cluster_keys {
 public:
  explicit cluster_keys(std::string_view cluster_name);

  const std::string& prefix() const { return prefix_; }
  std::string domains() const { return prefix_ + "domains/"; }
  std::string certs() const { return prefix_ + "certs/"; }
  std::string orders() const { return prefix_ + "orders/"; }
  std::string accounts() const { return prefix_ + "accounts/"; }
  std::string budgets() const { return prefix_ + "budgets/"; }

  std::string domain(std::string_view name) const { return domains().append(name); }
  std::string cert(std::string_view name) const { return certs().append(name); }
  std::string order(std::string_view name) const { return orders().append(name); }
  /// URLs are long and hold '/': keyed by the hex SHA-256 of the directory URL.
  std::string account(std::string_view directory_url) const;
  std::string budget(std::string_view directory_url) const;

 private:
  std::string prefix_;
};

// Domain records and budgets hold no secret: the record codec's bytes as they are.
std::string encode_domain(const storage::domain_record& r);
std::string encode_budget(const storage::budget_record& r);

/// A certificate pair, its keys sealed. The value starts with the current certificate's
/// not_after as 20 decimal digits (microseconds) and '|', so a transaction can keep the
/// certificate with the later expiry by comparing values.
result<std::string> seal_certs(const protocol::sealing_key& key, const std::string& etcd_key,
                               storage::cert_pair pair);
result<storage::cert_pair> open_certs(const protocol::sealing_key& key, const std::string& etcd_key,
                                      std::string_view value);
/// The not_after prefix seal_certs puts first (for the newer-wins comparison).
std::string expiry_prefix(timestamp not_after);

result<std::string> seal_order(const protocol::sealing_key& key, const std::string& etcd_key,
                               storage::pending_order_record order);
result<storage::pending_order_record> open_order(const protocol::sealing_key& key,
                                                 const std::string& etcd_key,
                                                 std::string_view value);

result<std::string> seal_account(const protocol::sealing_key& key, const std::string& etcd_key,
                                 storage::account_record account);
result<storage::account_record> open_account(const protocol::sealing_key& key,
                                             const std::string& etcd_key, std::string_view value);

}  // namespace certfleet::cluster
