#include "protocol/crypto/ec_pkcs8.hpp"

#include <openssl/asn1t.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "protocol/crypto/key.hpp"

namespace {

// RFC 5915 §3, without the optional parameters (OpenSSL leaves them out in PKCS#8).
struct ec_private_key {
  std::int32_t version;
  ASN1_OCTET_STRING* private_key;
  ASN1_BIT_STRING* public_key;
};

ASN1_SEQUENCE(ec_private_key) = {
    ASN1_EMBED(ec_private_key, version, INT32),
    ASN1_SIMPLE(ec_private_key, private_key, ASN1_OCTET_STRING),
    ASN1_EXP_OPT(ec_private_key, public_key, ASN1_BIT_STRING, 1),
} ASN1_SEQUENCE_END(ec_private_key)

}  // namespace

namespace certfleet::protocol {

using ossl::deleter;

std::optional<std::string> ec_private_key_pkcs8_pem(EVP_PKEY* key, std::string_view public_point,
                                                    int curve_nid, int scalar_bytes) {
  BIGNUM* scalar_raw = nullptr;
  if (public_point.empty() ||
      EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &scalar_raw) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  std::unique_ptr<BIGNUM, deleter<BN_clear_free>> scalar{scalar_raw};
  std::vector<unsigned char> scalar_bin(static_cast<std::size_t>(scalar_bytes));
  std::unique_ptr<ASN1_OCTET_STRING, deleter<ASN1_OCTET_STRING_free>> private_key{
      ASN1_OCTET_STRING_new()};
  std::unique_ptr<ASN1_BIT_STRING, deleter<ASN1_BIT_STRING_free>> public_key{ASN1_BIT_STRING_new()};
  const bool built =
      private_key && public_key &&
      BN_bn2binpad(scalar.get(), scalar_bin.data(), scalar_bytes) == scalar_bytes &&
      ASN1_OCTET_STRING_set(private_key.get(), scalar_bin.data(), scalar_bytes) == 1 &&
      ASN1_BIT_STRING_set(public_key.get(),  // copies the bytes
                          reinterpret_cast<unsigned char*>(const_cast<char*>(public_point.data())),
                          static_cast<int>(public_point.size())) == 1;
  OPENSSL_cleanse(scalar_bin.data(), scalar_bin.size());
  if (!built) {
    ERR_clear_error();
    return std::nullopt;
  }
  // A point ends wherever it ends: no unused bits, none to trim (as RFC 5480 encodes it).
  public_key->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
  public_key->flags |= ASN1_STRING_FLAG_BITS_LEFT;

  ec_private_key inner{1, private_key.get(), public_key.get()};
  unsigned char* inner_der = nullptr;
  const int inner_len = ASN1_item_i2d(reinterpret_cast<ASN1_VALUE*>(&inner), &inner_der,
                                      ASN1_ITEM_rptr(ec_private_key));
  if (inner_len <= 0) {
    ERR_clear_error();
    return std::nullopt;
  }
  std::unique_ptr<PKCS8_PRIV_KEY_INFO, deleter<PKCS8_PRIV_KEY_INFO_free>> info{
      PKCS8_PRIV_KEY_INFO_new()};
  // PKCS8_pkey_set0 takes the DER; PKCS8_PRIV_KEY_INFO_free clears it.
  if (!info || PKCS8_pkey_set0(info.get(), OBJ_nid2obj(NID_X9_62_id_ecPublicKey), 0, V_ASN1_OBJECT,
                               OBJ_nid2obj(curve_nid), inner_der, inner_len) != 1) {
    OPENSSL_clear_free(inner_der, static_cast<std::size_t>(inner_len));
    ERR_clear_error();
    return std::nullopt;
  }
  ossl::bio_ptr bio{BIO_new(BIO_s_mem())};
  if (!bio || PEM_write_bio_PKCS8_PRIV_KEY_INFO(bio.get(), info.get()) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  std::string pem(data, static_cast<std::size_t>(len));
  OPENSSL_cleanse(data, static_cast<std::size_t>(len));  // the memory BIO held the key too
  return pem;
}

}  // namespace certfleet::protocol
