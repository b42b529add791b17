#pragma once
// The one gateway from domain actors to the CA and the network (protocol::io_engine):
// self-checks, the ACME account, and orders. Protects the CA: a cap on orders in
// flight, a token-bucket budget every order spends (renewals too, as at Let's Encrypt),
// the CA's scoped limits spent ahead of time (ca_limits.hpp), and a pause of the scope a
// rateLimited answer names. Waiting orders are served renewals first, soonest expiry
// first, then new domains (order_queue.hpp). A fallback CA, when configured, has its own
// account, queue and budget; domains whose orders keep failing at the primary by its fault
// ask for it (order_request::fallback).

#include <array>
#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "actors/messages.hpp"
#include "actors/order_queue.hpp"
#include "protocol/engine/io_engine.hpp"
#include "storage/store.hpp"

namespace certfleet::actors {

/// Who asked for an order, and with what resume point.
struct order_client {
  caf::actor domain;
  std::optional<std::string> resume_url;
};

struct acme_state {
  protocol::io_engine* engine = nullptr;
  storage::store* store = nullptr;
  const certfleet::clock* wall = nullptr;  ///< for the stored budget (wall time)
  bool budget_save_failed = false;         ///< logged once per series of failures
  storage_actor storage;
  acme_settings settings;

  enum class account_status { none, registering, ready };
  /// One CA (index: protocol::ca_role): its account and its own queue and budget.
  struct ca_state {
    account_status account = account_status::none;
    /// Counts the CAs of this role used since start (a reload naming another adds one).
    std::uint32_t generation = 0;
    /// Null for a fallback CA when none is configured.
    std::optional<order_queue<order_client>> orders;
  };
  std::array<ca_state, 2> cas;
  ca_state& ca(protocol::ca_role role) { return cas[static_cast<std::size_t>(role)]; }
  bool pump_scheduled = false;

  std::deque<std::pair<std::string, caf::actor>> checks_waiting;
  std::uint64_t next_profile_check = 0;
  std::map<std::uint64_t, caf::typed_response_promise<bool, error>> profile_checks;
  std::uint32_t checks_in_flight = 0;

  /// An operator's revocation: waiting for the account, or at the CA (`sent`).
  struct revocation {
    std::string domain;
    std::string chain_pem;
    std::int32_t reason = 0;
    timestamp cert_not_after{};
    caf::typed_response_promise<bool, error, std::int64_t> answer;
    protocol::ca_role role = protocol::ca_role::primary;  ///< the CA that issued it
    bool sent = false;
  };
  std::uint64_t next_revocation = 0;
  std::map<std::uint64_t, revocation> revocations;

  /// An operator's account key rollover: waiting for the account, or at the CA (`sent`).
  struct key_rollover {
    caf::typed_response_promise<bool, error, std::string> answer;
    std::string directory_url;  ///< of the CA whose account it is
    bool sent = false;
  };
  std::optional<key_rollover> rollover;
  static inline const char* name = "acme";
};

/// What a profile check against the CA (profile_atom) means for a start or a reload: refuse
/// (the CA does not offer it: `message` is the diagnostic, file:line), or go on (offered; or
/// the CA could not be asked: `message` is then a warning).
struct profile_verdict {
  bool refuse = false;
  std::string message;
};
/// A certificate profile to check against the CA that is to offer it.
struct profile_check {
  std::string directive;  ///< lets_encrypt_profile or acme_fallback_profile
  std::string profile;
  std::string directory_url;
  std::string ca_bundle;
  int line = 0;  ///< where the directive is set
};
/// The profiles `settings` name (none, one or two), each with its CA.
std::vector<profile_check> profile_checks(const config::settings& settings);
profile_verdict judge_profile(bool offered, const error& why, const profile_check& check,
                              const std::filesystem::path& config_file);

/// The ACME service (interface: acme_actor in messages.hpp). Everything it does on the
/// network goes through `engine` (not null; outlives the actor; a fake in tests); it reads the
/// stored account and pending orders from `store` and writes through `storage_writer`. Its queue's
/// time is the actor clock (steady time; virtual under CAF's test coordinator). The spent
/// part of the new-order budget is stored (as the wall time `wall` says it is full again)
/// whenever new orders start, and restored at start and when the CA changes.
acme_actor::behavior_type acme_service_behavior(acme_actor::stateful_pointer<acme_state> self,
                                                protocol::io_engine* engine, storage::store* store,
                                                storage_actor storage_writer,
                                                const certfleet::clock* wall,
                                                acme_settings settings);

}  // namespace certfleet::actors
