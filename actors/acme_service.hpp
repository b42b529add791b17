#pragma once
// The one gateway from domain actors to the CA and the network (protocol::io_engine):
// self-checks, the ACME account, and orders. Protects the CA: a cap on orders in
// flight, a token-bucket budget for new orders (renewals are exempt, as at Let's
// Encrypt), and a global pause when the CA answers rateLimited with Retry-After.
// Waiting orders are served domains-without-a-certificate first, then soonest expiry.

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/stateful_actor.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "actors/messages.hpp"
#include "actors/order_queue.hpp"
#include "protocol/engine/io_engine.hpp"
#include "storage/store.hpp"

namespace certfleet::actors {

struct acme_settings {
  bool enabled = false;  ///< terms agreed and an email set
  std::string email;
  std::string directory_url;
  key_type key = key_type::ec_p256;
  std::uint32_t orders_in_flight = 16;
  order_budget budget;  ///< new orders only
  std::uint32_t self_checks_in_flight = 64;
};

/// Who asked for an order, and with what resume point.
struct order_client {
  caf::actor domain;
  std::optional<std::string> resume_url;
};

struct acme_state {
  protocol::io_engine* engine = nullptr;
  storage::store* store = nullptr;
  caf::actor storage;
  const certfleet::clock* clock = nullptr;
  acme_settings settings;

  enum class account_status { none, registering, ready } account = account_status::none;
  std::optional<order_queue<order_client>> orders;
  bool pump_scheduled = false;

  std::deque<std::pair<std::string, caf::actor>> checks_waiting;
  std::uint32_t checks_in_flight = 0;
  static inline const char* name = "acme";
};

/// Messages:
///   (check_atom, string domain)          -> sender gets (checked_atom, bool, error)
///   (order_atom, order_request)          -> sender gets stage/issued/done messages
///   (reload_atom, acme_settings)         new settings
caf::behavior acme_service(caf::stateful_actor<acme_state>* self, protocol::io_engine* engine,
                           storage::store* store, caf::actor storage_writer,
                           const certfleet::clock* clock, acme_settings settings);

}  // namespace certfleet::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(certfleet::actors::acme_settings)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(certfleet::protocol::account_credentials)
