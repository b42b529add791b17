#pragma once
// The typed state of certfleet over LMDB. Named databases:
//   "domains"  domain name   -> domain_record  (record_codec)
//   "certs"    domain name   -> cert_pair
//   "account"  directory URL -> account_record
//   "pending"  domain name   -> pending_order_record (order in flight and its key)
//   "meta"     "schema_version" -> u32 little-endian
//
// Schema history:
//   0  domain records in format 0 (no order_url); certs and account as in 1.
//   1  domain records in format 1 (current).
// Opening read_write migrates an older schema in one transaction; a newer schema is
// refused. Opening read_only refuses both (the daemon migrates, the CLI only reads).
//
// Files are 0600 in a 0700 directory (see lmdb_env); no error message contains key bytes.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "storage/lmdb_env.hpp"
#include "storage/records.hpp"

namespace certfleet::storage {

using open_options = env_options;

/// Changes committed together. Within a batch the puts are applied first, then the
/// erases; between batches committed together, a later batch wins.
struct write_batch {
  std::vector<domain_record> put_domains;
  std::vector<cert_pair> put_certs;  ///< keyed by current.domain
  std::optional<account_record> put_account;
  /// Erases the domain record, its certificates and its pending order.
  std::vector<std::string> erase_domains;
  /// Orders in flight with their certificate keys (saved before finalize).
  std::vector<pending_order_record> put_pending_orders;
  std::vector<std::string> erase_pending_orders;  ///< by domain; a missing one is fine
  std::optional<budget_record> put_budget;        ///< keyed by directory_url

  bool empty() const {
    return put_domains.empty() && put_certs.empty() && !put_account && erase_domains.empty() &&
           put_pending_orders.empty() && erase_pending_orders.empty() && !put_budget;
  }
};

struct store_stats {
  std::size_t map_size = 0;   ///< bytes mapped
  std::size_t file_size = 0;  ///< bytes of data.mdb
  std::size_t domains = 0;
  std::size_t certs = 0;
};

class store {
 public:
  static constexpr std::uint32_t current_schema = 1;

  /// Opens the state in state_dir (read_write creates it). Errors (kind storage): see
  /// lmdb_env::open; the state was written by a newer certfleet; read_only and the state
  /// is older (needs the daemon to migrate it) or not initialised.
  static result<store> open(const std::filesystem::path& state_dir, open_mode mode,
                            const open_options& opts = {});

  store(store&&) noexcept = default;
  store& operator=(store&&) noexcept = default;
  ~store() = default;

  /// Checks that every key of the batch is usable (non-empty, short enough for LMDB), so a
  /// bad change can be rejected before it is grouped with good ones. Errors: invalid_input.
  static result<void> validate(const write_batch& batch);

  /// Applies the batches in order in one durable transaction (all or nothing).
  result<void> commit(std::span<const write_batch> batches);
  result<void> commit(const write_batch& batch) { return commit(std::span(&batch, 1)); }

  result<std::optional<domain_record>> get_domain(std::string_view name) const;
  /// All domain records, sorted by name, from one snapshot. A record that does not decode
  /// is skipped and logged by its key (never its bytes).
  result<std::vector<domain_record>> list_domains() const;
  /// Calls fn for every domain record, sorted by name, from one snapshot, skipping damaged
  /// ones as list_domains does. fn runs inside a read transaction: keep it short and do
  /// not commit from it.
  result<void> for_each_domain(const std::function<void(const domain_record&)>& fn) const;
  result<std::optional<cert_pair>> get_certs(std::string_view name) const;
  result<std::optional<account_record>> get_account(std::string_view directory_url) const;
  /// How much of this CA's new-order budget was spent, if it was ever stored.
  result<std::optional<budget_record>> get_budget(std::string_view directory_url) const;
  /// The order in flight for a domain and its key, if one was saved.
  result<std::optional<pending_order_record>> get_pending_order(std::string_view domain) const;

  /// Clears reader slots of dead processes; returns how many.
  result<std::size_t> reader_check() { return env_->reader_check(); }
  /// See lmdb_env::release_resident_pages (after a full scan).
  void release_resident_pages() { env_->release_resident_pages(); }
  result<store_stats> stats() const;

  lmdb_env& env() { return *env_; }

 private:
  store() = default;
  result<void> init_read_write();
  result<void> init_read_only();
  // Calls fn(key, value) for every domain in one snapshot; stops at fn's first error.
  result<void> scan_domains(
      const std::function<result<void>(std::string_view, std::string_view)>& fn) const;

  std::unique_ptr<lmdb_env> env_;
  MDB_dbi domains_ = 0;
  MDB_dbi certs_ = 0;
  MDB_dbi account_ = 0;
  MDB_dbi pending_ = 0;
  MDB_dbi meta_ = 0;
};

/// The schema version stored in meta (4 bytes, little-endian).
std::string encode_schema_version(std::uint32_t version);

}  // namespace certfleet::storage
