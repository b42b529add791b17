#include "protocol/crypto/sealed.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <sstream>

namespace certfleet::protocol {

namespace {

constexpr std::string_view magic = "cf1";
constexpr std::size_t nonce_size = 12;
constexpr std::size_t tag_size = 16;

using cipher_ctx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

const unsigned char* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

result<sealing_key> sealing_key::from_hex(std::string_view text) {
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!text.empty() && blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && blank(text.back())) text.remove_suffix(1);
  const error bad{error_kind::config,
                  "the cluster key must be 64 hexadecimal digits (32 bytes); make one with "
                  "`openssl rand -hex 32` and give every node the same file"};
  if (text.size() != 64) return bad;
  sealing_key key;
  for (std::size_t i = 0; i < 32; ++i) {
    const int high = hex_value(text[2 * i]), low = hex_value(text[2 * i + 1]);
    if (high < 0 || low < 0) return bad;
    key.bytes_[i] = static_cast<unsigned char>(high * 16 + low);
  }
  return key;
}

result<sealing_key> sealing_key::load(const std::filesystem::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return error{error_kind::config,
                 "cannot read the cluster key file " + file.string() +
                     "; create it with `openssl rand -hex 32 > FILE && chmod 600 FILE`"};
  if ((st.st_mode & 077) != 0)
    return error{error_kind::config,
                 "the cluster key file " + file.string() + " may be read by others; chmod 600 it"};
  std::ifstream in(file);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in.good() && !in.eof())
    return error{error_kind::config, "cannot read the cluster key file " + file.string()};
  std::string content = text.str().substr(0, 256);
  auto key = from_hex(content);
  OPENSSL_cleanse(content.data(), content.size());
  if (!key) return error{error_kind::config, file.string() + ": " + key.err().detail};
  return key;
}

result<std::string> seal(const sealing_key& key, std::string_view name,
                         std::string_view plaintext) {
  const error failed{error_kind::internal, "cannot encrypt with AES-256-GCM (OpenSSL failed)"};
  std::string out(magic);
  out.resize(magic.size() + nonce_size + plaintext.size() + tag_size);
  auto* nonce = reinterpret_cast<unsigned char*>(out.data() + magic.size());
  auto* body = nonce + nonce_size;
  if (RAND_bytes(nonce, nonce_size) != 1) return failed;
  cipher_ctx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int n = 0;
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.bytes().data(), nonce) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &n, bytes_of(name), static_cast<int>(name.size())) !=
          1 ||
      EVP_EncryptUpdate(ctx.get(), body, &n, bytes_of(plaintext),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), body + n, &n) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, tag_size, body + plaintext.size()) != 1)
    return failed;
  return out;
}

result<std::string> open_sealed(const sealing_key& key, std::string_view name,
                                std::string_view sealed) {
  if (sealed.size() < magic.size() + nonce_size + tag_size || sealed.substr(0, 3) != magic)
    return error{error_kind::invalid_input,
                 "a sealed secret of " + std::string(name) + " is not in certfleet's format"};
  const auto* nonce = bytes_of(sealed) + magic.size();
  const std::size_t body_size = sealed.size() - magic.size() - nonce_size - tag_size;
  const auto* body = nonce + nonce_size;
  std::string tag(sealed.substr(sealed.size() - tag_size));
  std::string out(body_size, '\0');
  auto* plain = reinterpret_cast<unsigned char*>(out.data());
  cipher_ctx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int n = 0;
  const bool ok =
      ctx &&
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.bytes().data(), nonce) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &n, bytes_of(name), static_cast<int>(name.size())) ==
          1 &&
      EVP_DecryptUpdate(ctx.get(), plain, &n, body, static_cast<int>(body_size)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, tag_size, tag.data()) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), plain + n, &n) == 1;
  if (!ok) {
    OPENSSL_cleanse(out.data(), out.size());
    return error{error_kind::invalid_input,
                 "the sealed secret of " + std::string(name) +
                     " does not open: the nodes' cluster key files differ, or the data in etcd "
                     "is damaged; give every node the same cluster_key_file"};
  }
  return out;
}

}  // namespace certfleet::protocol
