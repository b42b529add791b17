#include "actors/storage_actor.hpp"

#include <caf/all.hpp>
#include <optional>

#include "core/log.hpp"

namespace certfleet::actors {

namespace {

using self_ptr = storage_actor::stateful_pointer<storage_state>;

// A new certificate keeps the one it replaces as `previous` until it is in use.
void keep_previous_certificates(self_ptr self, storage::write_batch& batch) {
  for (auto& pair : batch.put_certs) {
    if (pair.previous) continue;
    if (auto old = self->state.store->get_certs(pair.current.domain); old && *old)
      pair.previous = std::move((*old)->current);
  }
}

caf::typed_response_promise<bool, std::string> submit(self_ptr self, storage::write_batch batch) {
  auto rp = self->make_response_promise<bool, std::string>();
  const auto id = self->state.next_id++;
  std::vector<std::string> domains;
  domains.reserve(batch.put_domains.size());
  for (const auto& d : batch.put_domains) domains.push_back(d.name);
  self->state.waiting.emplace(id, storage_state::waiting_write{rp, std::move(domains)});
  storage_actor me = caf::actor_cast<storage_actor>(self);
  // on_durable runs on the writer thread: only hand the outcome back to the actor (and,
  // in a cluster, the batch to the publisher).
  std::optional<storage::write_batch> copy;
  if (self->state.mirror) copy = batch;
  self->state.writer->submit(std::move(batch), [me, id, mirror = self->state.mirror,
                                                copy = std::move(copy)](result<void> r) mutable {
    if (r.ok() && copy) mirror(std::move(*copy));
    caf::anon_send(me, durable_atom::value, id, r.ok(), r.ok() ? std::string() : r.err().detail);
  });
  return rp;
}

}  // namespace

storage_actor::behavior_type storage_behavior(self_ptr self, storage::store* store,
                                              storage::group_writer* writer,
                                              storage_mirror mirror) {
  self->state.store = store;
  self->state.writer = writer;
  self->state.mirror = std::move(mirror);
  return {
      [=](persist_atom, storage::write_batch& batch) {
        keep_previous_certificates(self, batch);
        return submit(self, std::move(batch));
      },
      [=](durable_atom, std::uint64_t id, bool ok, std::string& detail) {
        auto it = self->state.waiting.find(id);
        if (it == self->state.waiting.end()) {
          log_error("storage: an outcome for unknown write " + std::to_string(id) + " (a bug)");
          return;
        }
        if (!ok) log_error("storage: saving state failed: " + detail);
        for (const auto& domain : it->second.domains) {
          if (ok)
            self->state.unsaved.erase(domain);
          else
            self->state.unsaved[domain] = detail;
        }
        it->second.promise.deliver(ok, std::move(detail));
        self->state.waiting.erase(it);
      },
      [=](problems_atom) {
        std::vector<control::save_problem> out;
        out.reserve(self->state.unsaved.size());
        for (const auto& [domain, why] : self->state.unsaved) out.push_back({domain, why});
        return out;
      },
  };
}

}  // namespace certfleet::actors
