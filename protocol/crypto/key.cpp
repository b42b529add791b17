#include "protocol/crypto/key.hpp"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <array>
#include <cstdio>
#include <cstdlib>

#include "protocol/crypto/ec_pkcs8.hpp"

namespace certfleet::protocol {

namespace ossl {

bio_ptr read_bio(std::string_view text) {
  return bio_ptr{BIO_new_mem_buf(text.data(), static_cast<int>(text.size()))};
}

std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string{};
}

error make_error(error_kind kind, std::string what) {
  // The last error in the queue is the most specific; OpenSSL's reason strings name
  // what failed and never carry key material.
  const unsigned long code = ERR_peek_last_error();
  if (code != 0) {
    std::array<char, 256> buf{};
    ERR_error_string_n(code, buf.data(), buf.size());
    what += " (OpenSSL: ";
    what += buf.data();
    what += ')';
  }
  ERR_clear_error();
  return error{kind, std::move(what)};
}

}  // namespace ossl

namespace {

// Which of our key types an OpenSSL key is, if any.
result<key_type> classify(EVP_PKEY* pkey) {
  if (EVP_PKEY_is_a(pkey, "EC")) {
    std::array<char, 64> group{};
    std::size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group.data(), group.size(),
                                       &len) != 1)
      return ossl::make_error(error_kind::invalid_input, "EC key without a named curve");
    const std::string_view name(group.data(), len);
    if (name == "prime256v1" || name == "P-256") return key_type::ec_p256;
    if (name == "secp384r1" || name == "P-384") return key_type::ec_p384;
    return error{error_kind::invalid_input,
                 "unsupported EC curve " + std::string(name) + "; use P-256 or P-384"};
  }
  if (EVP_PKEY_is_a(pkey, "RSA")) {
    switch (EVP_PKEY_get_bits(pkey)) {
      case 2048:
        return key_type::rsa2048;
      case 3072:
        return key_type::rsa3072;
      case 4096:
        return key_type::rsa4096;
      default:
        return error{error_kind::invalid_input, "unsupported RSA key size " +
                                                    std::to_string(EVP_PKEY_get_bits(pkey)) +
                                                    " bits; use 2048, 3072 or 4096"};
    }
  }
  const char* name = EVP_PKEY_get0_type_name(pkey);
  return error{error_kind::invalid_input, std::string("unsupported key algorithm ") +
                                              (name != nullptr ? name : "(unknown)") +
                                              "; use an ECDSA P-256/P-384 or RSA key"};
}

// Refuses to prompt on the terminal for the passphrase of an encrypted key.
int no_passphrase(char*, int, int, void*) { return -1; }

}  // namespace

namespace {

// OpenSSL 3.0 looks the algorithm up and sets the curve on every EVP_PKEY_Q_keygen;
// a context prepared once per thread and curve only generates. Null if OpenSSL fails.
EVP_PKEY_CTX* ec_keygen_context(key_type type) {
  thread_local ossl::pkey_ctx_ptr p256, p384;
  auto& ctx = type == key_type::ec_p256 ? p256 : p384;
  if (!ctx) {
    ossl::pkey_ctx_ptr fresh{EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr)};
    if (!fresh || EVP_PKEY_keygen_init(fresh.get()) != 1 ||
        EVP_PKEY_CTX_set_group_name(fresh.get(), type == key_type::ec_p256 ? "P-256" : "P-384") !=
            1)
      return nullptr;
    ctx = std::move(fresh);
  }
  return ctx.get();
}

}  // namespace

private_key::private_key(ossl::pkey_ptr pkey, key_type type) : pkey_(std::move(pkey)), type_(type) {
  if (!is_ec()) return;
  std::array<unsigned char, 2 * 48 + 1> point{};  // P-384 is the largest EC key type
  std::size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(pkey_.get(), OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point.data(),
                                      point.size(), &len) == 1) {
    ec_point_.assign(reinterpret_cast<const char*>(point.data()), len);
  } else {
    ERR_clear_error();  // left empty: what needs the point fails with its own message
  }
}

result<private_key> private_key::generate(key_type type) {
  EVP_PKEY* raw = nullptr;
  switch (type) {
    case key_type::ec_p256:
    case key_type::ec_p384:
      if (EVP_PKEY_CTX* ctx = ec_keygen_context(type); ctx != nullptr) EVP_PKEY_keygen(ctx, &raw);
      break;
    case key_type::rsa2048:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048});
      break;
    case key_type::rsa3072:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{3072});
      break;
    case key_type::rsa4096:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{4096});
      break;
  }
  if (raw == nullptr)
    return ossl::make_error(error_kind::internal,
                            "generating a " + std::string(to_string(type)) + " key failed");
  return private_key{ossl::pkey_ptr{raw}, type};
}

result<private_key> private_key::from_pem(std::string_view pem) {
  // Errors another call left in this thread's queue must not decide how this key decodes.
  ERR_clear_error();
  auto bio = ossl::read_bio(pem);
  if (!bio) return ossl::make_error(error_kind::internal, "allocating a BIO failed");
  ossl::pkey_ptr pkey{PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr)};
  if (!pkey) {
    ERR_clear_error();  // the reason would only say "bad decrypt" or "no start line"
    const bool encrypted = pem.find("ENCRYPTED") != std::string_view::npos;
    return error{error_kind::invalid_input,
                 encrypted ? "the private key is encrypted; certfleet needs an unencrypted key"
                           : "not a PEM private key (expected -----BEGIN PRIVATE KEY-----)"};
  }
  auto type = classify(pkey.get());
  if (!type) return std::move(type).err();
  return private_key{std::move(pkey), *type};
}

std::string private_key::to_pem() const {
  if (type_ == key_type::ec_p256 || type_ == key_type::ec_p384) {
    const bool p256 = type_ == key_type::ec_p256;
    if (auto pem = ec_private_key_pkcs8_pem(
            pkey_.get(), ec_point_, p256 ? NID_X9_62_prime256v1 : NID_secp384r1, p256 ? 32 : 48))
      return std::move(*pem);
  }
  ossl::bio_ptr bio{BIO_new(BIO_s_mem())};
  // In OpenSSL 3 this writes PKCS#8 PrivateKeyInfo ("BEGIN PRIVATE KEY").
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), pkey_.get(), nullptr, nullptr, 0, nullptr,
                                       nullptr) != 1) {
    // Only fails when memory runs out: nothing sensible to carry on with.
    std::fputs("certfleet: fatal: encoding a private key as PEM failed\n", stderr);
    std::abort();
  }
  return ossl::bio_contents(bio.get());
}

std::string sha256(std::string_view bytes) {
  std::string digest(32, '\0');
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), reinterpret_cast<unsigned char*>(digest.data()), &len,
                 EVP_sha256(), nullptr) != 1 ||
      len != 32) {
    std::fputs("certfleet: fatal: SHA-256 failed\n", stderr);
    std::abort();
  }
  return digest;
}

}  // namespace certfleet::protocol
