#include "protocol/crypto/base64.hpp"

#include <openssl/evp.h>

namespace certfleet::protocol::base64 {

std::string encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

result<std::string> decode(std::string_view text) {
  const auto bad = [] { return error{error_kind::invalid_input, "not valid base64"}; };
  if (text.size() % 4 != 0) return bad();
  // EVP_DecodeBlock skips leading blanks and ignores padding when it counts: check
  // the alphabet first, then take the padding's bytes off its output.
  std::size_t padding = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool in_alphabet = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                             (c >= '0' && c <= '9') || c == '+' || c == '/';
    if (c == '=' && i + 2 >= text.size() &&
        (padding > 0 || i + 1 == text.size() || text[i + 1] == '=')) {
      ++padding;
      continue;
    }
    if (!in_alphabet || padding > 0) return bad();
  }
  std::string out(3 * text.size() / 4, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return bad();
  out.resize(static_cast<std::size_t>(n) - padding);
  return out;
}

}  // namespace certfleet::protocol::base64
