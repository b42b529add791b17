#include "actors/storage_actor.hpp"

#include <caf/all.hpp>

#include "actors/messages.hpp"
#include "core/log.hpp"

namespace certfleet::actors {

namespace {

caf::response_promise submit(caf::stateful_actor<storage_state>* self, storage::write_batch batch) {
  auto rp = self->make_response_promise();
  const auto id = self->state.next_id++;
  self->state.waiting.emplace(id, rp);
  caf::actor me = caf::actor_cast<caf::actor>(self);
  // on_durable runs on the writer thread: only hand the outcome back to the actor.
  self->state.writer->submit(std::move(batch), [me, id](result<void> r) {
    caf::anon_send(me, durable_atom::value, id, r.ok(), r.ok() ? std::string() : r.err().detail);
  });
  return rp;
}

}  // namespace

caf::behavior storage_actor(caf::stateful_actor<storage_state>* self, storage::store* store,
                            storage::group_writer* writer) {
  self->state.store = store;
  self->state.writer = writer;
  return {
      [=](persist_atom, storage::write_batch& batch) { return submit(self, std::move(batch)); },
      [=](save_cert_atom, storage::cert_record& cert, storage::domain_record& record) {
        storage::write_batch batch;
        storage::cert_pair pair{std::move(cert), std::nullopt};
        // Keep the certificate being replaced until the new one is in use.
        if (auto old = self->state.store->get_certs(record.name); old && *old) {
          pair.previous = std::move((*old)->current);
        }
        batch.put_certs.push_back(std::move(pair));
        batch.erase_pending_orders.push_back(record.name);
        batch.put_domains.push_back(std::move(record));
        return submit(self, std::move(batch));
      },
      [=](durable_atom, std::uint64_t id, bool ok, std::string& detail) {
        auto it = self->state.waiting.find(id);
        if (it == self->state.waiting.end()) return;
        if (!ok) log_error("storage: saving state failed: " + detail);
        it->second.deliver(ok, std::move(detail));
        self->state.waiting.erase(it);
      },
  };
}

}  // namespace certfleet::actors
