#pragma once
// Which live member of a cluster owns a domain: rendezvous (highest random weight)
// hashing over the member list every node agrees on (the membership epoch).
//
// Why rendezvous hashing and not leased shards: ownership needs no state of its own
// in etcd (a node computes it from the member list alone), every domain has exactly
// one owner for a given list, and when a member leaves only its own domains move
// (about 1/N of them), spread evenly over the others; a member that joins takes
// about 1/(N+1), from every other member alike. Leased shards would add keys to keep
// alive and a rebalancing protocol for the same outcome.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace certfleet::cluster {

/// The weight of `member` for `domain`: a 64-bit hash of both, the same on every node
/// and every build (FNV-1a, then a 64-bit finalizer so that similar names spread).
std::uint64_t rendezvous_weight(std::string_view member, std::string_view domain);

/// The member with the highest weight for `domain` ("" when there is none). Ties
/// (never seen in practice) go to the member whose name sorts first.
std::string_view owner_of(std::string_view domain, const std::vector<std::string>& members);

/// The epoch's value in etcd: the sorted member names, one per line.
std::string encode_members(std::vector<std::string> members);
/// Refuses a name that node_name would refuse (config::parse_node_name), and duplicates.
result<std::vector<std::string>> decode_members(std::string_view text);

}  // namespace certfleet::cluster
