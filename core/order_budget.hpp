#pragma once
// The budget of ACME orders: the order_budget directive of certfleet.conf, and what the
// ACME service spends (actors/order_queue.hpp). Renewals spend it too: Let's Encrypt counts
// them against its new-order limit (only ARI renewals are exempt).

#include <chrono>
#include <cstdint>

namespace certfleet {

/// At most `orders` new ACME orders in any window of `per` (Let's Encrypt: 300 per 3 hours).
struct order_budget {
  std::uint32_t orders = 300;
  std::chrono::seconds per = std::chrono::hours(3);
  bool operator==(const order_budget&) const = default;
};

}  // namespace certfleet
