#pragma once
// The single LMDB writer as an actor: wraps storage::group_writer (group commit on
// its own thread) and answers each change once it is durable.

#include <caf/fwd.hpp>
#include <caf/response_promise.hpp>
#include <caf/typed_response_promise.hpp>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "actors/messages.hpp"
#include "storage/group_writer.hpp"
#include "storage/store.hpp"

namespace certfleet::actors {

struct storage_state {
  storage::store* store = nullptr;
  storage::group_writer* writer = nullptr;  ///< owned by the daemon, which flushes it at stop
  std::unordered_map<std::uint64_t, caf::typed_response_promise<bool, std::string>> waiting;
  std::uint64_t next_id = 0;
  static inline const char* name = "storage";
};

/// The storage actor (interface: storage_actor in messages.hpp).
storage_actor::behavior_type storage_behavior(storage_actor::stateful_pointer<storage_state> self,
                                              storage::store* store, storage::group_writer* writer);

}  // namespace certfleet::actors
