#pragma once
// A simulated ACME CA for the fleet simulator: what Let's Encrypt does to a client's orders,
// in virtual time. It enforces Let's Encrypt's limits itself, with its own code (not the
// client's ledger), so a client that breaks one is caught here as a breach:
//   new orders per account                 300 per 3 h
//   new certificates per registered domain  50 per 7 days (renewals exempt)
//   new certificates per exact name set      5 per 7 days
//   failed authorizations per hostname       5 per 1 h
// Source: https://letsencrypt.org/docs/rate-limits/ (2025). Let's Encrypt implements each as
// a GCRA token bucket (boulder's ratelimits package): `burst` at once, then one per
// period / burst. Renewal = a certificate for the same name set was issued before.
//
// With `ari`, it offers renewal windows (RFC 9773) as Let's Encrypt does: a window of 1/45 of
// the lifetime (2 days of 90) around two thirds of it, Retry-After 6 hours, and after a
// revocation a window that begins at once. An order that names the certificate it replaces
// once that certificate's window has begun is exempt from every limit (Let's Encrypt's
// rule), and is no duplicate however young the certificate.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/error.hpp"
#include "core/order_budget.hpp"
#include "core/time.hpp"

namespace certfleet::sim {

struct ca_settings {
  order_budget new_orders{300, std::chrono::hours(3)};  ///< the CA's account limit
  bool scoped_limits = true;                            ///< the three scoped limits above
  std::chrono::hours lifetime{24 * 90};
  bool ari = false;  ///< offers renewal windows (RFC 9773)
};

/// A renewal window the CA suggests.
struct ca_window {
  timestamp start{}, end{};
};

/// What the CA answers to a new order (or to resuming a known one).
struct ca_answer {
  bool accepted = false;  ///< false: `refusal` says why (rateLimited or an outage)
  error refusal;
  std::string order_url;       ///< the order, new or resumed
  bool already_valid = false;  ///< a resumed order the CA issued meanwhile
};

/// Counts kept for the report.
struct ca_counts {
  std::uint64_t orders_created = 0;
  std::uint64_t certificates = 0;
  std::uint64_t rate_limited = 0;  ///< orders the CA had to refuse: limit breaches
  std::uint64_t breach_account = 0, breach_registered = 0, breach_name = 0, breach_failures = 0;
  std::uint64_t failed_authorizations = 0;
  std::uint64_t outage_refusals = 0;
  /// A new order for a name whose earlier order the CA still works on, or a certificate
  /// for a name whose current one was nowhere near renewal (< half its lifetime old).
  std::uint64_t duplicates = 0;
  std::uint64_t ari_requests = 0;  ///< renewalInfo requests answered
  std::uint64_t ari_exempt = 0;    ///< orders exempt as replacements inside their window
};

class sim_ca {
 public:
  explicit sim_ca(ca_settings s) : s_(s) {}

  /// A new order for `name` (under `registered`), or the known order `resume_url`.
  /// `replaces`: the order names the certificate it replaces (RFC 9773 §5).
  ca_answer new_order(const std::string& name, const std::string& registered,
                      const std::string& resume_url, timestamp now, bool replaces = false);
  /// The renewal window of `name`'s certificate issued at `not_before`; nullopt when the CA
  /// offers no ARI (such a request is not counted: the client asks no one).
  std::optional<ca_window> renewal_info(const std::string& name, timestamp not_before,
                                        timestamp now);
  /// Revokes the current certificate of `name`: its window begins at `now`.
  void revoke(const std::string& name, timestamp now) { revoked_at_[name] = now; }
  /// renewalInfo requests in each hour since the start (index: hour).
  const std::vector<std::uint32_t>& ari_requests_per_hour() const { return ari_per_hour_; }
  /// The CA validates the order: false when the name does not answer (counted as a
  /// failed authorization of the name; the order becomes invalid).
  bool validate(const std::string& order_url, bool name_answers, timestamp now);
  /// Issues the certificate of a validated order: its validity.
  std::pair<timestamp, timestamp> issue(const std::string& order_url, timestamp now);
  /// The validity of the certificate of an order issued before (a resumed, valid order).
  std::pair<timestamp, timestamp> issued_validity(const std::string& order_url) const;

  /// A certificate issued before the simulation starts (later ones for the name renew it).
  void seed_issued(const std::string& name, timestamp when) { last_issued_[name] = when; }

  void set_down(bool down) { down_ = down; }
  bool down() const { return down_; }
  const ca_counts& counts() const { return counts_; }
  /// Orders created in each hour since the start (index: hour), but those exempt as ARI
  /// replacements: what spends the account's budget.
  const std::vector<std::uint32_t>& orders_per_hour() const { return per_hour_; }
  void set_origin(timestamp origin) { origin_ = origin; }

 private:
  struct bucket {
    timestamp full_at{};  ///< GCRA's theoretical arrival time
  };
  struct order_state {
    std::string name;
    std::string registered;
    enum class status : std::uint8_t { pending, valid, invalid } st = status::pending;
    timestamp not_before{}, not_after{};
    bool ari_replacement = false;
  };
  /// The window of the certificate of `name` issued at `not_before`.
  ca_window window_of(const std::string& name, timestamp not_before) const;
  /// Counts one event of the hour `now` falls in.
  void count_hour(std::vector<std::uint32_t>& per_hour, timestamp now) const;
  bool allows(bucket& b, std::uint32_t burst, std::chrono::seconds period, timestamp now) const;
  void spend(bucket& b, std::uint32_t burst, std::chrono::seconds period, timestamp now);
  ca_answer refuse(std::string detail, std::chrono::seconds retry_after);

  ca_settings s_;
  bool down_ = false;
  timestamp origin_{};
  bucket account_;
  std::unordered_map<std::string, bucket> registered_, name_set_, failures_;
  std::unordered_map<std::string, timestamp> last_issued_;   ///< by name
  std::unordered_map<std::string, timestamp> revoked_at_;    ///< by name
  std::unordered_map<std::string, std::string> open_order_;  ///< name -> pending order
  std::unordered_map<std::string, order_state> orders_;      ///< by URL
  std::uint64_t next_order_ = 0;
  ca_counts counts_;
  std::vector<std::uint32_t> per_hour_;
  std::vector<std::uint32_t> ari_per_hour_;
};

}  // namespace certfleet::sim
