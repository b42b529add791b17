#include "cluster/ownership.hpp"

#include <algorithm>

#include "config/value_parsers.hpp"

namespace certfleet::cluster {

std::uint64_t rendezvous_weight(std::string_view member, std::string_view domain) {
  std::uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a offset basis
  const auto mix_in = [&h](std::string_view bytes) {
    for (const char c : bytes) {
      h ^= static_cast<unsigned char>(c);
      h *= 0x100000001b3ull;  // FNV prime
    }
  };
  mix_in(member);
  mix_in(std::string_view("\0", 1));  // "ab"+"c" and "a"+"bc" must differ
  mix_in(domain);
  // splitmix64's finalizer: FNV alone leaves the high bits of similar names close.
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

std::string_view owner_of(std::string_view domain, const std::vector<std::string>& members) {
  std::string_view best;
  std::uint64_t best_weight = 0;
  for (const auto& member : members) {
    const std::uint64_t w = rendezvous_weight(member, domain);
    if (best.empty() || w > best_weight || (w == best_weight && member < best)) {
      best = member;
      best_weight = w;
    }
  }
  return best;
}

std::string encode_members(std::vector<std::string> members) {
  std::sort(members.begin(), members.end());
  std::string out;
  for (const auto& m : members) out.append(m).push_back('\n');
  return out;
}

result<std::vector<std::string>> decode_members(std::string_view text) {
  std::vector<std::string> members;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t nl = text.find('\n', start);
    const std::size_t end = nl == std::string_view::npos ? text.size() : nl;
    auto name = config::parse_node_name(text.substr(start, end - start));
    if (!name)
      return error{error_kind::bad_response,
                   "the cluster's member list in etcd is damaged: " + name.err().detail};
    members.push_back(std::move(*name));
    start = end + 1;
  }
  std::sort(members.begin(), members.end());
  if (std::adjacent_find(members.begin(), members.end()) != members.end())
    return error{error_kind::bad_response,
                 "the cluster's member list in etcd names a node twice; it is rewritten when a "
                 "member joins or leaves"};
  return members;
}

}  // namespace certfleet::cluster
