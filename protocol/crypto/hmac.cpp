#include "protocol/crypto/hmac.hpp"

#include <openssl/evp.h>

namespace certfleet::protocol {

result<std::string> hmac_sha256(std::string_view key, std::string_view data) {
  std::string out(EVP_MAX_MD_SIZE, '\0');
  std::size_t length = 0;
  char digest[] = "SHA256";
  const auto* mac = EVP_Q_mac(nullptr, "HMAC", nullptr, digest, nullptr, key.data(), key.size(),
                              reinterpret_cast<const unsigned char*>(data.data()), data.size(),
                              reinterpret_cast<unsigned char*>(out.data()), out.size(), &length);
  if (mac == nullptr) return error{error_kind::internal, "OpenSSL could not compute an HMAC"};
  out.resize(length);
  return out;
}

}  // namespace certfleet::protocol
