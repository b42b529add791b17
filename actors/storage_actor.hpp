#pragma once
// The single LMDB writer as an actor: wraps storage::group_writer (group commit on
// its own thread) and answers each change once it is durable. It remembers which
// domains' latest change failed to store, so `certfleet status` can say so while the
// disk is full (the store itself cannot hold that news then).

#include <caf/fwd.hpp>
#include <caf/response_promise.hpp>
#include <caf/typed_response_promise.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/messages.hpp"
#include "storage/group_writer.hpp"
#include "storage/store.hpp"

namespace certfleet::actors {

/// Called on the writer thread with each batch once it is durable (a cluster node
/// publishes it); null: nothing.
using storage_mirror = std::function<void(storage::write_batch)>;

struct storage_state {
  struct waiting_write {
    caf::typed_response_promise<bool, std::string> promise;
    std::vector<std::string> domains;  ///< whose records the write holds
  };
  storage::store* store = nullptr;
  storage::group_writer* writer = nullptr;  ///< owned by the daemon, which flushes it at stop
  storage_mirror mirror;
  std::unordered_map<std::uint64_t, waiting_write> waiting;
  std::uint64_t next_id = 0;
  /// Domain -> why its latest write failed; cleared by its next successful write.
  std::map<std::string, std::string> unsaved;
  static inline const char* name = "storage";
};

/// The storage actor (interface: storage_actor in messages.hpp).
storage_actor::behavior_type storage_behavior(storage_actor::stateful_pointer<storage_state> self,
                                              storage::store* store, storage::group_writer* writer,
                                              storage_mirror mirror);

}  // namespace certfleet::actors
