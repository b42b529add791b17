#pragma once
// One timer for all domain actors. A pending caf::delayed_send per actor costs a
// mailbox element and a clock entry each (hundreds of bytes); with 100k domains
// that is most of the memory budget. This actor keeps the wake-ups in one heap of
// small entries and arms a single CAF timer for the earliest.

#include <caf/actor_addr.hpp>
#include <caf/fwd.hpp>
#include <chrono>
#include <cstdint>
#include <queue>
#include <vector>

#include "actors/messages.hpp"

namespace certfleet::actors {

struct wake_entry {
  std::chrono::steady_clock::time_point at;
  caf::actor_addr domain;  ///< weak: a retired actor is not kept alive by its timer
  std::uint32_t generation;
  bool operator>(const wake_entry& o) const { return at > o.at; }
};

struct wake_timer_state {
  std::priority_queue<wake_entry, std::vector<wake_entry>, std::greater<>> heap;
  std::chrono::steady_clock::time_point armed_for = std::chrono::steady_clock::time_point::max();
  std::uint64_t armed_generation = 0;
  static inline const char* name = "wake_timer";
};

/// The wake timer (interface: wake_timer_actor in messages.hpp). Time is the actor
/// clock's (steady time; virtual under CAF's test coordinator).
wake_timer_actor::behavior_type wake_timer_behavior(
    wake_timer_actor::stateful_pointer<wake_timer_state> self);

}  // namespace certfleet::actors
