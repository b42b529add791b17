#include "actors/wake_timer.hpp"

#include <caf/all.hpp>

#include "core/log.hpp"

namespace certfleet::actors {

namespace {

using self_ptr = wake_timer_actor::stateful_pointer<wake_timer_state>;
using steady = std::chrono::steady_clock;

// Arms the single CAF timer for the earliest entry, unless it already is.
void arm(self_ptr self) {
  auto& st = self->state;
  if (st.heap.empty()) return;
  const auto next = st.heap.top().at;
  if (next >= st.armed_for) return;
  st.armed_for = next;
  const auto delay = std::max(next - self->clock().now(), steady::duration::zero());
  self->delayed_send(self, delay, tick_atom::value, ++st.armed_generation);
}

}  // namespace

wake_timer_actor::behavior_type wake_timer_behavior(self_ptr self) {
  return {
      [=](wake_atom, std::int64_t at_ns, std::uint32_t generation) {
        if (!self->current_sender()) {
          log_warning("wake_timer: a wake request without a sender cannot be answered (a bug)");
          return;
        }
        const steady::time_point at{
            std::chrono::duration_cast<steady::duration>(std::chrono::nanoseconds(at_ns))};
        self->state.heap.push({at, self->current_sender()->address(), generation});
        arm(self);
      },
      [=](tick_atom, std::uint64_t armed_generation) {
        auto& st = self->state;
        if (armed_generation != st.armed_generation) return;  // superseded by an earlier arm
        st.armed_for = steady::time_point::max();
        const auto now = self->clock().now();
        while (!st.heap.empty() && st.heap.top().at <= now) {
          const wake_entry e = st.heap.top();
          st.heap.pop();
          if (auto target = caf::actor_cast<caf::actor>(e.domain)) {
            caf::anon_send(target, domain_msg{wake_command{e.generation}});
          }
        }
        arm(self);
      },
  };
}

}  // namespace certfleet::actors
