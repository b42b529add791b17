#pragma once
// One actor per domain: a thin shell around the pure domain state machine
// (domain_fsm). It turns messages into events, persists the new state before it
// acts, and carries out the effects: asking the ACME service for a self-check or
// an order, arming its one wake-up timer, answering `retry`.

#include <atomic>
#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/fwd.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "actors/domain_fsm.hpp"
#include "actors/messages.hpp"
#include "core/time.hpp"
#include "storage/records.hpp"

namespace certfleet::actors {

/// What every domain actor shares; outlives them all.
struct domain_env {
  storage_actor storage;
  acme_actor acme;
  wake_timer_actor timer;
  export_actor exporter;  ///< told about every new certificate; may be null
  const certfleet::clock* clock = nullptr;
  const policy* pol = nullptr;
  std::atomic<bool> self_check_enabled{true};
  std::atomic<std::uint32_t> fallback_after{0};  ///< context::fallback_after
  std::atomic<bool> acme_enabled{true};          ///< context::acme_enabled
};

/// A step whose write failed and that carries news nothing else would bring back (a
/// certificate, why an attempt failed): kept in memory and stored again later.
struct unsaved_step {
  event ev;
  storage::write_batch extra;  ///< e.g. the certificate, stored with the step
  std::uint32_t failures = 0;  ///< writes failed in a row; sets the back-off
};

/// What few domains need at a time: kept out of line (at 100k domains every byte of
/// state counts) and freed when empty.
struct domain_rare_state {
  std::vector<caf::response_promise> retry_waiters;  ///< pending `retry` answers
  std::optional<unsaved_step> unsaved;
  bool empty() const { return retry_waiters.empty() && !unsaved; }
};

struct domain_state {
  storage::domain_record record;
  std::uint32_t wake_generation = 0;  ///< stale timers carry an older generation
  /// Spawned for a domain back in the configuration (its first step is `reconfigured`).
  /// Kept here, where it fits in padding, rather than in domain_actor.
  bool rejoining = false;
  std::unique_ptr<domain_rare_state> rare;
  static inline const char* name = "domain";
};

/// Messages: domain_msg only (see messages.hpp): wake, retry (answered with
/// retry_outcome), retire, get (answered with the domain_record), the self-check
/// result, issuance stages, the issued certificate, a failed order. Anything else is
/// logged and answered with an error.
/// Each step is stored before its effects are carried out; when the write fails the
/// step is dropped (the record stays as stored) and a wake is armed to try again, with
/// a back-off; a step with news (a certificate, a failure) is kept and stored then.
/// A retired domain persists its state and exits.
/// Spawned as a class (system.spawn<domain_actor>(record, env, rejoining)), not as a
/// function: CAF keeps a function actor's arguments in a heap tuple until the actor
/// starts, and at 100k domains those freed tuples stay as holes between the actors.
class domain_actor : public caf::stateful_actor<domain_state> {
 public:
  domain_actor(caf::actor_config& cfg, storage::domain_record record, domain_env* env,
               bool rejoining);
  caf::behavior make_behavior() override;

 private:
  domain_env* env_;
};

}  // namespace certfleet::actors
