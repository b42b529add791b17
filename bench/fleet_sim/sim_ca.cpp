#include "bench/fleet_sim/sim_ca.hpp"

#include <algorithm>

namespace certfleet::sim {

namespace {

using namespace std::chrono_literals;
constexpr std::chrono::seconds week = std::chrono::days{7};

}  // namespace

// GCRA: one token every period / burst; `burst` may be spent at once.
bool sim_ca::allows(bucket& b, std::uint32_t burst, std::chrono::seconds period,
                    timestamp now) const {
  const auto interval = std::chrono::duration_cast<std::chrono::microseconds>(period) / burst;
  return b.full_at - now <=
         std::chrono::duration_cast<std::chrono::microseconds>(period) - interval;
}

void sim_ca::spend(bucket& b, std::uint32_t burst, std::chrono::seconds period, timestamp now) {
  const auto interval = std::chrono::duration_cast<std::chrono::microseconds>(period) / burst;
  b.full_at = std::max(b.full_at, now) + interval;
}

ca_answer sim_ca::refuse(std::string detail, std::chrono::seconds retry_after) {
  ++counts_.rate_limited;
  ca_answer a;
  a.refusal = error{error_kind::rate_limited, std::move(detail), true, retry_after};
  return a;
}

void sim_ca::count_hour(std::vector<std::uint32_t>& per_hour, timestamp now) const {
  const auto hour = static_cast<std::size_t>(std::max<std::int64_t>(
      0, std::chrono::duration_cast<std::chrono::hours>(now - origin_).count()));
  if (per_hour.size() <= hour) per_hour.resize(hour + 1, 0);
  ++per_hour[hour];
}

ca_window sim_ca::window_of(const std::string& name, timestamp not_before) const {
  if (auto r = revoked_at_.find(name); r != revoked_at_.end() && r->second >= not_before)
    return {r->second, r->second + 24h};
  const auto lifetime = std::chrono::duration_cast<std::chrono::microseconds>(s_.lifetime);
  const timestamp start = not_before + lifetime * 2 / 3 - lifetime / 90;
  return {start, start + lifetime / 45};
}

std::optional<ca_window> sim_ca::renewal_info(const std::string& name, timestamp not_before,
                                              timestamp now) {
  if (!s_.ari) return std::nullopt;
  ++counts_.ari_requests;
  count_hour(ari_per_hour_, now);
  return window_of(name, not_before);
}

ca_answer sim_ca::new_order(const std::string& name, const std::string& registered,
                            const std::string& resume_url, timestamp now, bool replaces) {
  if (down_) {
    ++counts_.outage_refusals;
    ca_answer a;
    a.refusal = error{error_kind::server_error, "the CA answered 503 Service Unavailable", true};
    return a;
  }
  if (!resume_url.empty()) {
    auto known = orders_.find(resume_url);
    if (known != orders_.end() && known->second.st != order_state::status::invalid) {
      ca_answer a;
      a.accepted = true;
      a.order_url = resume_url;
      a.already_valid = known->second.st == order_state::status::valid;
      return a;
    }
  }
  auto last = last_issued_.find(name);
  const bool renewal = last != last_issued_.end();
  const bool exempt = s_.ari && replaces && renewal && window_of(name, last->second).start <= now;
  // New-order limits are checked when the order is created (boulder's WFE/RA).
  if (exempt) {
    ++counts_.ari_exempt;
  } else if (!allows(account_, s_.new_orders.orders, s_.new_orders.per, now)) {
    ++counts_.breach_account;
    return refuse("too many new orders (" + std::to_string(s_.new_orders.orders) +
                      ") from this account: see "
                      "https://letsencrypt.org/docs/rate-limits/#new-orders-per-account",
                  std::chrono::seconds(36));
  }
  if (s_.scoped_limits && !exempt) {
    if (!allows(failures_[name], 5, 1h, now)) {
      ++counts_.breach_failures;
      return refuse("too many failed authorizations (5) for \"" + name + "\" in the last 1h0m0s",
                    12min);
    }
    if (!allows(name_set_[name], 5, week, now)) {
      ++counts_.breach_name;
      return refuse("too many certificates (5) already issued for this exact set of identifiers",
                    std::chrono::hours(34));
    }
    if (!renewal && !allows(registered_[registered], 50, week, now)) {
      ++counts_.breach_registered;
      return refuse("too many certificates (50) already issued for \"" + registered +
                        "\": see https://letsencrypt.org/docs/rate-limits/"
                        "#new-certificates-per-registered-domain",
                    std::chrono::minutes(202));
    }
  }
  if (!exempt) spend(account_, s_.new_orders.orders, s_.new_orders.per, now);
  if (auto open = open_order_.find(name); open != open_order_.end()) {
    auto prev = orders_.find(open->second);
    if (prev != orders_.end() && prev->second.st == order_state::status::pending)
      ++counts_.duplicates;
    else if (prev != orders_.end())
      orders_.erase(prev);  // its client has had its answer
  }
  const std::string url = "https://ca.sim/order/" + std::to_string(++next_order_);
  orders_[url] = order_state{name, registered};
  orders_[url].ari_replacement = exempt;
  open_order_[name] = url;
  ++counts_.orders_created;
  if (!exempt) count_hour(per_hour_, now);  // the hours of orders that spend the budget
  ca_answer a;
  a.accepted = true;
  a.order_url = url;
  return a;
}

bool sim_ca::validate(const std::string& order_url, bool name_answers, timestamp now) {
  auto it = orders_.find(order_url);
  if (it == orders_.end()) return false;
  if (it->second.st != order_state::status::pending)
    return it->second.st == order_state::status::valid;
  if (name_answers) return true;
  it->second.st = order_state::status::invalid;
  ++counts_.failed_authorizations;
  if (s_.scoped_limits) spend(failures_[it->second.name], 5, 1h, now);
  return false;
}

std::pair<timestamp, timestamp> sim_ca::issue(const std::string& order_url, timestamp now) {
  order_state& o = orders_.at(order_url);
  if (o.st == order_state::status::valid) return {o.not_before, o.not_after};
  auto last = last_issued_.find(o.name);
  const bool renewal = last != last_issued_.end();
  if (renewal && now - last->second < s_.lifetime / 2 && !o.ari_replacement) ++counts_.duplicates;
  if (s_.scoped_limits) {
    spend(name_set_[o.name], 5, week, now);
    // Certificates count against the registered domain when issued (renewals exempt).
    if (!renewal) spend(registered_[o.registered], 50, week, now);
  }
  o.st = order_state::status::valid;
  o.not_before = now;
  o.not_after = now + s_.lifetime;
  last_issued_[o.name] = now;
  ++counts_.certificates;
  return {o.not_before, o.not_after};
}

std::pair<timestamp, timestamp> sim_ca::issued_validity(const std::string& order_url) const {
  const order_state& o = orders_.at(order_url);
  return {o.not_before, o.not_after};
}

}  // namespace certfleet::sim
