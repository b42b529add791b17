#pragma once
// Secrets at rest outside this host (a cluster's private keys and account keys in
// etcd): AES-256-GCM under the cluster key, so an etcd snapshot or backup never holds
// a plaintext key. The sealed form is
//   "cf1" | 12-byte random nonce | ciphertext | 16-byte tag,
// and the name the secret is stored under is authenticated with it (GCM's associated
// data): a sealed key moved to another domain's entry does not open.

#include <array>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace certfleet::protocol {

/// The 32-byte cluster key. Never logged, never in an error.
class sealing_key {
 public:
  /// From 64 hexadecimal digits (what `openssl rand -hex 32` prints), blanks around them
  /// allowed. The error says what the file must hold, never what it held.
  static result<sealing_key> from_hex(std::string_view text);
  /// Reads the key file: it must be a regular file, readable by its owner only (0600 or
  /// 0400), holding from_hex's text.
  static result<sealing_key> load(const std::filesystem::path& file);

  const std::array<unsigned char, 32>& bytes() const { return bytes_; }

 private:
  std::array<unsigned char, 32> bytes_{};
};

/// Seals `plaintext` stored under `name`. Errors (internal): OpenSSL failed.
result<std::string> seal(const sealing_key& key, std::string_view name, std::string_view plaintext);

/// Opens what seal() made under the same name. Errors (invalid_input): not sealed by
/// this format, another key, another name, or changed bytes; the error says which check
/// failed in words for the operator (the cluster key files differ, or the data is damaged).
result<std::string> open_sealed(const sealing_key& key, std::string_view name,
                                std::string_view sealed);

}  // namespace certfleet::protocol
