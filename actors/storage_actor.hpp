#pragma once
// The single LMDB writer as an actor: wraps storage::group_writer (group commit on
// its own thread) and answers each change once it is durable.

#include <caf/fwd.hpp>
#include <caf/stateful_actor.hpp>
#include <cstdint>
#include <memory>
#include <unordered_map>

#include "storage/group_writer.hpp"
#include "storage/store.hpp"

namespace certfleet::actors {

struct storage_state {
  storage::store* store = nullptr;
  storage::group_writer* writer = nullptr;  ///< owned by the engine, which flushes it at stop
  std::unordered_map<std::uint64_t, caf::response_promise> waiting;
  std::uint64_t next_id = 0;
  static inline const char* name = "storage";
};

/// Messages:
///   (persist_atom, write_batch) -> (bool ok, std::string error)   once durable
///   (save_cert_atom, cert_record, domain_record) -> (bool, std::string)
///       stores a new certificate (the old one becomes "previous") with the record
caf::behavior storage_actor(caf::stateful_actor<storage_state>* self, storage::store* store,
                            storage::group_writer* writer);

}  // namespace certfleet::actors
