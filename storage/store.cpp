#include "storage/store.hpp"

#include <utility>

#include "core/log.hpp"
#include "storage/record_codec.hpp"

namespace certfleet::storage {
namespace {

constexpr std::string_view schema_key = "schema_version";
// Budget records live in meta under this prefix and the CA's directory URL.
constexpr std::string_view budget_key_prefix = "budget ";
// LMDB's default maximum key size (mdb_env_get_maxkeysize).
constexpr std::size_t max_key_size = 511;

std::string_view from_val(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

result<std::optional<std::uint32_t>> parse_schema(std::optional<std::string_view> bytes) {
  if (!bytes) return std::optional<std::uint32_t>{};
  if (bytes->size() != 4)
    return error(error_kind::storage,
                 "stored schema version is corrupt (" + std::to_string(bytes->size()) + " bytes)");
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= std::uint32_t{static_cast<std::uint8_t>((*bytes)[i])} << (8 * i);
  return std::optional<std::uint32_t>{v};
}

error newer_schema(const std::filesystem::path& dir, std::uint32_t found) {
  return {error_kind::storage, "state directory " + dir.string() +
                                   " was written by a newer certfleet (schema " +
                                   std::to_string(found) + "); this version reads schema " +
                                   std::to_string(store::current_schema) +
                                   ": upgrade certfleet, or point it at another state directory"};
}

// A stored key as it may be shown: a damaged page can hand back any bytes as a key (a
// private key's among them), so only a plausible domain name is ever printed.
std::string shown_key(std::string_view key) {
  const bool plausible = !key.empty() && key.size() <= 253 &&
                         key.find_first_not_of(
                             "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                             "0123456789.-_*") == std::string_view::npos;
  if (plausible) return std::string(key);
  return "(a damaged key of " + std::to_string(key.size()) + " bytes)";
}

// A domain record that does not decode is skipped, named by its key only (never its
// bytes): the other domains stay readable, and the daemon treats this one as new.
void report_skipped(std::string_view key, const error& why) {
  log_error("state: the stored record of domain " + shown_key(key) + " is damaged (" + why.detail +
            "); skipped it. certfleetd treats the domain as new; restore data.mdb " +
            "from a backup to get its state back");
}

result<void> check_key(std::string_view what, std::string_view key) {
  if (key.empty() || key.size() > max_key_size)
    return error(error_kind::invalid_input, std::string(what) + " of " +
                                                std::to_string(key.size()) +
                                                " bytes cannot be stored (must be 1 to " +
                                                std::to_string(max_key_size) + " bytes)");
  return {};
}

// Schema 0 -> 1: domain records gain order_url (empty).
result<void> migrate_0_to_1(write_txn& txn, MDB_dbi domains) {
  MDB_cursor* cur = nullptr;
  if (auto r = txn.check(::mdb_cursor_open(txn.get(), domains, &cur), "open cursor"); !r) return r;
  std::vector<std::pair<std::string, std::string>> rewritten;
  domain_record rec;
  MDB_val k{}, v{};
  int rc = ::mdb_cursor_get(cur, &k, &v, MDB_FIRST);
  for (; rc == 0; rc = ::mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    if (auto r = decode_domain_v0(from_val(v), rec); !r) {
      ::mdb_cursor_close(cur);
      return error(error_kind::storage, "migrating schema 0 to 1: " + r.err().detail);
    }
    rewritten.emplace_back(std::string(from_val(k)), encode(rec));
  }
  ::mdb_cursor_close(cur);
  if (rc != MDB_NOTFOUND) return txn.check(rc, "read domains");
  for (const auto& [key, value] : rewritten)
    if (auto r = txn.put(domains, key, value); !r) return r;
  return {};
}

}  // namespace

std::string encode_schema_version(std::uint32_t v) {
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}

result<store> store::open(const std::filesystem::path& state_dir, open_mode mode,
                          const open_options& opts) {
  auto env = lmdb_env::open(state_dir, mode, opts);
  if (!env) return std::move(env).err();
  store s;
  s.env_ = std::move(env).value();
  auto init = mode == open_mode::read_write ? s.init_read_write() : s.init_read_only();
  if (!init) return std::move(init).err();
  return s;
}

result<void> store::init_read_write() {
  return env_->write([&](write_txn& txn) -> result<void> {
    struct {
      const char* name;
      MDB_dbi* dbi;
    } dbs[] = {{"domains", &domains_},
               {"certs", &certs_},
               {"account", &account_},
               {"pending", &pending_},
               {"meta", &meta_}};
    for (auto& db : dbs)
      if (auto r = txn.check(::mdb_dbi_open(txn.get(), db.name, MDB_CREATE, db.dbi),
                             std::string("open database ") + db.name);
          !r)
        return r;
    auto raw = txn.find(meta_, schema_key);
    if (!raw) return std::move(raw).err();
    auto version = parse_schema(*raw);
    if (!version) return std::move(version).err();
    if (!*version) {
      MDB_stat st{};
      ::mdb_stat(txn.get(), domains_, &st);
      if (st.ms_entries != 0)
        return error(error_kind::storage, "state directory " + env_->dir().string() +
                                              " holds domains but no schema version; it was not "
                                              "written by certfleet, or is damaged");
    } else if (**version > current_schema) {
      return newer_schema(env_->dir(), **version);
    } else if (**version == 0) {
      if (auto r = migrate_0_to_1(txn, domains_); !r) return r;
    }
    if (!*version || **version != current_schema)
      return txn.put(meta_, schema_key, encode_schema_version(current_schema));
    return {};
  });
}

result<void> store::init_read_only() {
  auto meta = env_->open_dbi("meta", false);
  if (!meta) return std::move(meta).err();
  meta_ = *meta;
  {
    auto txn = env_->begin_read();
    if (!txn) return std::move(txn).err();
    auto raw = txn->find(meta_, schema_key);
    if (!raw) return std::move(raw).err();
    auto version = parse_schema(*raw);
    if (!version) return std::move(version).err();
    if (!*version)
      return error(error_kind::storage, "state directory " + env_->dir().string() +
                                            " has not been initialised; start certfleetd first");
    if (**version > current_schema) return newer_schema(env_->dir(), **version);
    if (**version < current_schema)
      return error(error_kind::storage,
                   "state directory " + env_->dir().string() + " has schema " +
                       std::to_string(**version) +
                       " of an older certfleet; start certfleetd of "
                       "this version once to migrate it, then run this command again");
  }
  for (auto [name, dbi] : {std::pair{"domains", &domains_},
                           {"certs", &certs_},
                           {"account", &account_},
                           {"pending", &pending_}}) {
    auto h = env_->open_dbi(name, false);
    if (!h) return std::move(h).err();
    *dbi = *h;
  }
  return {};
}

result<void> store::validate(const write_batch& batch) {
  for (const auto& d : batch.put_domains)
    if (auto r = check_key("domain name", d.name); !r) return r;
  for (const auto& c : batch.put_certs)
    if (auto r = check_key("certificate domain name", c.current.domain); !r) return r;
  if (batch.put_account)
    if (auto r = check_key("ACME directory URL", batch.put_account->directory_url); !r) return r;
  for (const auto& name : batch.erase_domains)
    if (auto r = check_key("domain name", name); !r) return r;
  for (const auto& p : batch.put_pending_orders)
    if (auto r = check_key("pending order domain name", p.domain); !r) return r;
  for (const auto& name : batch.erase_pending_orders)
    if (auto r = check_key("pending order domain name", name); !r) return r;
  if (batch.put_budget)
    if (auto r = check_key("ACME directory URL",
                           std::string(budget_key_prefix) + batch.put_budget->directory_url);
        !r)
      return r;
  return {};
}

result<void> store::commit(std::span<const write_batch> batches) {
  for (const auto& b : batches)
    if (auto r = validate(b); !r) return r;
  return env_->write([&](write_txn& txn) -> result<void> {
    std::string buf;
    for (const auto& b : batches) {
      for (const auto& d : b.put_domains) {
        buf.clear();
        encode(d, buf);
        if (auto r = txn.put(domains_, d.name, buf); !r) return r;
      }
      for (const auto& c : b.put_certs) {
        buf.clear();
        encode(c, buf);
        if (auto r = txn.put(certs_, c.current.domain, buf); !r) return r;
      }
      if (b.put_account) {
        buf.clear();
        encode(*b.put_account, buf);
        if (auto r = txn.put(account_, b.put_account->directory_url, buf); !r) return r;
      }
      for (const auto& p : b.put_pending_orders) {
        buf.clear();
        encode(p, buf);
        if (auto r = txn.put(pending_, p.domain, buf); !r) return r;
      }
      for (const auto& name : b.erase_pending_orders) {
        if (auto r = txn.erase(pending_, name); !r) return r;
      }
      if (b.put_budget) {
        buf.clear();
        encode(*b.put_budget, buf);
        const std::string key = std::string(budget_key_prefix) + b.put_budget->directory_url;
        if (auto r = txn.put(meta_, key, buf); !r) return r;
      }
      for (const auto& name : b.erase_domains) {
        if (auto r = txn.erase(domains_, name); !r) return r;
        if (auto r = txn.erase(certs_, name); !r) return r;
        if (auto r = txn.erase(pending_, name); !r) return r;
      }
    }
    return {};
  });
}

namespace {

template <class Record>
result<std::optional<Record>> get_record(lmdb_env& env, MDB_dbi dbi, std::string_view key) {
  if (key.empty() || key.size() > max_key_size) return std::optional<Record>{};
  auto txn = env.begin_read();
  if (!txn) return std::move(txn).err();
  auto raw = txn->find(dbi, key);
  if (!raw) return std::move(raw).err();
  if (!*raw) return std::optional<Record>{};
  Record rec;
  if (auto r = decode(**raw, rec); !r) return std::move(r).err();
  return std::optional<Record>{std::move(rec)};
}

}  // namespace

result<std::optional<domain_record>> store::get_domain(std::string_view name) const {
  return get_record<domain_record>(*env_, domains_, name);
}

result<std::optional<cert_pair>> store::get_certs(std::string_view name) const {
  return get_record<cert_pair>(*env_, certs_, name);
}

result<std::optional<account_record>> store::get_account(std::string_view url) const {
  return get_record<account_record>(*env_, account_, url);
}

result<std::optional<budget_record>> store::get_budget(std::string_view url) const {
  return get_record<budget_record>(*env_, meta_, std::string(budget_key_prefix) + std::string(url));
}

result<std::optional<pending_order_record>> store::get_pending_order(
    std::string_view domain) const {
  return get_record<pending_order_record>(*env_, pending_, domain);
}

result<void> store::scan_domains(
    const std::function<result<void>(std::string_view, std::string_view)>& fn) const {
  auto txn = env_->begin_read();
  if (!txn) return std::move(txn).err();
  MDB_cursor* cur = nullptr;
  if (int rc = ::mdb_cursor_open(txn->get(), domains_, &cur); rc != 0)
    return lmdb_error(rc, "open cursor on domains");
  MDB_val k{}, v{};
  int rc = ::mdb_cursor_get(cur, &k, &v, MDB_FIRST);
  for (; rc == 0; rc = ::mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    if (auto r = fn(from_val(k), from_val(v)); !r) {
      ::mdb_cursor_close(cur);
      return error(error_kind::storage,
                   r.err().detail + " (domain " + shown_key(from_val(k)) + ")");
    }
  }
  ::mdb_cursor_close(cur);
  if (rc != MDB_NOTFOUND) return lmdb_error(rc, "scan domains");
  return {};
}

result<void> store::for_each_domain(const std::function<void(const domain_record&)>& fn) const {
  domain_record rec;
  return scan_domains([&](std::string_view key, std::string_view value) -> result<void> {
    if (auto r = decode(value, rec); !r)
      report_skipped(key, r.err());
    else
      fn(rec);
    return {};
  });
}

result<std::vector<domain_record>> store::list_domains() const {
  std::vector<domain_record> out;
  if (auto s = stats(); s) out.reserve(s->domains);
  auto r = scan_domains([&](std::string_view key, std::string_view value) -> result<void> {
    if (auto decoded = decode(value, out.emplace_back()); !decoded) {
      out.pop_back();
      report_skipped(key, decoded.err());
    }
    return {};
  });
  if (!r) return std::move(r).err();
  return out;
}

result<store_stats> store::stats() const {
  auto txn = env_->begin_read();
  if (!txn) return std::move(txn).err();
  store_stats s;
  MDB_stat st{};
  if (int rc = ::mdb_stat(txn->get(), domains_, &st); rc != 0) return lmdb_error(rc, "stat");
  s.domains = st.ms_entries;
  if (int rc = ::mdb_stat(txn->get(), certs_, &st); rc != 0) return lmdb_error(rc, "stat");
  s.certs = st.ms_entries;
  s.map_size = env_->map_size();
  s.file_size = env_->file_size();
  return s;
}

}  // namespace certfleet::storage
