#include "core/key_type.hpp"

#include <array>
#include <string>

namespace certfleet {

namespace {

struct key_type_name {
  key_type type;
  std::string_view name;
};

constexpr std::array<key_type_name, 5> spellings{{
    {key_type::ec_p256, "ecdsa-p256"},
    {key_type::ec_p384, "ecdsa-p384"},
    {key_type::rsa2048, "rsa2048"},
    {key_type::rsa3072, "rsa3072"},
    {key_type::rsa4096, "rsa4096"},
}};

}  // namespace

std::string_view key_type_names() { return "ecdsa-p256, ecdsa-p384, rsa2048, rsa3072, rsa4096"; }

result<key_type> parse_key_type(std::string_view name) {
  for (const auto& entry : spellings)
    if (entry.name == name) return entry.type;
  return error{error_kind::config, "unknown key type \"" + std::string(name) +
                                       "\"; accepted values: " + std::string(key_type_names())};
}

std::string_view to_string(key_type type) {
  for (const auto& entry : spellings)
    if (entry.type == type) return entry.name;
  return "unknown";
}

}  // namespace certfleet
