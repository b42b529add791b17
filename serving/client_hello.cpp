#include "serving/client_hello.hpp"

#include <cctype>
#include <cstddef>

namespace certfleet::serving {

namespace {

std::size_t u16_at(std::string_view bytes, std::size_t at) {
  return (std::size_t{static_cast<unsigned char>(bytes[at])} << 8) |
         static_cast<unsigned char>(bytes[at + 1]);
}

}  // namespace

bool offers_protocol(std::string_view ext, std::string_view wanted) {
  if (ext.size() < 2 || u16_at(ext, 0) + 2 != ext.size()) return false;
  for (std::size_t at = 2; at < ext.size();) {
    const std::size_t n = static_cast<unsigned char>(ext[at]);
    if (at + 1 + n > ext.size()) return false;
    if (ext.substr(at + 1, n) == wanted) return true;
    at += 1 + n;
  }
  return false;
}

std::string server_name_of(std::string_view ext) {
  // list length, name type (0: host_name), name length, name
  if (ext.size() < 5 || ext[2] != 0) return {};
  const std::size_t n = u16_at(ext, 3);
  if (5 + n > ext.size()) return {};
  std::string name(ext.substr(5, n));
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

}  // namespace certfleet::serving
