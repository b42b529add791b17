#include "tools/cli/csr_files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "config/domain_name.hpp"
#include "protocol/crypto/base64url.hpp"
#include "protocol/crypto/crypto.hpp"

namespace certfleet::cli {

namespace {

// Standard base64 (PEM), 64 columns.
std::string pem_block(const std::string& label, const std::string& der) {
  static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string b64;
  std::size_t i = 0;
  for (; i + 2 < der.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(der[i]) << 16) |
                       (static_cast<unsigned char>(der[i + 1]) << 8) |
                       static_cast<unsigned char>(der[i + 2]);
    for (int s = 18; s >= 0; s -= 6) b64 += table[(v >> s) & 63];
  }
  if (i < der.size()) {
    unsigned v = static_cast<unsigned char>(der[i]) << 16;
    if (i + 1 < der.size()) v |= static_cast<unsigned char>(der[i + 1]) << 8;
    b64 += table[(v >> 18) & 63];
    b64 += table[(v >> 12) & 63];
    b64 += i + 1 < der.size() ? table[(v >> 6) & 63] : '=';
    b64 += '=';
  }
  std::string out = "-----BEGIN " + label + "-----\n";
  for (std::size_t p = 0; p < b64.size(); p += 64) out += b64.substr(p, 64) + "\n";
  return out + "-----END " + label + "-----\n";
}

result<void> write_new_file(const std::filesystem::path& path, const std::string& data,
                            mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    return error{error_kind::invalid_input,
                 "cannot create " + path.string() + ": " + std::strerror(errno) +
                     (errno == EEXIST ? " (remove it first, or choose another --out)" : "")};
  }
  const bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
  ::close(fd);
  if (!ok) return error{error_kind::invalid_input, "cannot write " + path.string()};
  return {};
}

}  // namespace

result<std::vector<protocol::subject_entry>> parse_subject(const std::string& text) {
  std::vector<protocol::subject_entry> out;
  if (text.empty()) return out;
  if (text.front() != '/')
    return error{error_kind::invalid_input,
                 "--subject \"" + text + "\" must start with \"/\", as in /C=US/O=Example Inc"};
  std::size_t at = 1;
  while (at <= text.size()) {
    const std::size_t end = std::min(text.find('/', at), text.size());
    const std::string part = text.substr(at, end - at);
    const std::size_t eq = part.find('=');
    if (eq == 0 || eq == std::string::npos || eq + 1 == part.size())
      return error{error_kind::invalid_input,
                   "--subject part \"" + part + "\" is not FIELD=VALUE, as in /O=Example Inc"};
    out.push_back({part.substr(0, eq), part.substr(eq + 1)});
    at = end + 1;
  }
  return out;
}

result<std::string> write_csr_files(const std::string& domain, const std::string& key_type,
                                    const std::filesystem::path& dir, const std::string& subject) {
  auto entries = parse_subject(subject);
  if (!entries) return std::move(entries).err();
  auto name = config::normalize_domain(domain);
  if (!name) return std::move(name).err();
  auto type = parse_key_type(key_type);
  if (!type) return std::move(type).err();
  auto key = protocol::private_key::generate(*type);
  if (!key) return std::move(key).err();
  auto der = protocol::make_csr_der(*key, {*name}, *entries);
  if (!der) return std::move(der).err();
  const auto key_path = dir / "server.key";
  const auto csr_path = dir / "server.csr";
  if (auto r = write_new_file(key_path, key->to_pem(), 0600); !r) return std::move(r).err();
  if (auto r = write_new_file(csr_path, pem_block("CERTIFICATE REQUEST", *der), 0644); !r) {
    ::unlink(key_path.c_str());
    return std::move(r).err();
  }
  return "Wrote the private key to " + key_path.string() + " (mode 0600) and the CSR for " + *name +
         " to " + csr_path.string() + ".\n";
}

}  // namespace certfleet::cli
