#include "serving/private_dir.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace certfleet::serving {

namespace {

std::string errno_text() { return std::strerror(errno); }

std::string octal(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// The directory an open descriptor names must be ours and closed to other users:
// otherwise a user could swap in files or read keys through a race.
result<void> check_owner_and_mode(int fd, const std::filesystem::path& path,
                                  const std::string& setting) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return error{error_kind::storage,
                 "cannot check " + setting + " " + path.string() + ": " + errno_text()};
  }
  if (st.st_uid != ::geteuid()) {
    return error{error_kind::config,
                 setting + " " + path.string() + " is owned by uid " + std::to_string(st.st_uid) +
                     ", not by certfleetd's user (uid " + std::to_string(::geteuid()) +
                     "); its owner could replace or read the keys written there: chown " +
                     std::to_string(::geteuid()) + " " + path.string()};
  }
  if ((st.st_mode & 022) != 0) {
    return error{error_kind::config, setting + " " + path.string() +
                                         " is writable by group or others (mode " +
                                         octal(st.st_mode) +
                                         "); they could replace or read the keys written there: "
                                         "chmod go-w " +
                                         path.string()};
  }
  return {};
}

result<int> open_checked(int parent_fd, const std::filesystem::path& name,
                         const std::filesystem::path& shown, const std::string& setting) {
  const int fd = ::openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    const bool link = errno == ELOOP || errno == ENOTDIR;
    return error{error_kind::config,
                 "cannot open " + setting + " " + shown.string() + ": " +
                     (link ? "it is a symbolic link or not a directory; set " + setting +
                                 " to a real directory"
                           : errno_text() + "; check that it exists and is readable")};
  }
  if (auto checked = check_owner_and_mode(fd, shown, setting); !checked) {
    ::close(fd);
    return std::move(checked).err();
  }
  return fd;
}

// 16 random hex digits: a temporary name nobody can plant in advance.
std::string random_suffix() {
  unsigned char bytes[8] = {};
  if (::getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) {
    // O_EXCL still refuses a planted name; the write then fails instead of being unsafe.
    return std::to_string(::getpid());
  }
  std::string hex;
  for (unsigned char b : bytes) {
    static const char digits[] = "0123456789abcdef";
    hex += digits[b >> 4];
    hex += digits[b & 15];
  }
  return hex;
}

}  // namespace

result<private_dir> private_dir::open(const std::filesystem::path& path,
                                      const std::string& setting) {
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::symlink_status(path, ec))) {
    std::filesystem::create_directories(path, ec);
    if (ec) {
      return error{error_kind::config, "cannot create " + setting + " " + path.string() + ": " +
                                           ec.message() + "; check " + setting +
                                           " and the permissions of its parent"};
    }
    std::filesystem::permissions(path, std::filesystem::perms(0755), ec);
  }
  auto fd = open_checked(AT_FDCWD, path, path, setting);
  if (!fd) return std::move(fd).err();
  return private_dir(*fd, path, setting);
}

result<private_dir> private_dir::subdir(const std::string& name) const {
  if (::mkdirat(fd_, name.c_str(), 0755) != 0 && errno != EEXIST) {
    return error{error_kind::storage,
                 "cannot create " + (path_ / name).string() + ": " + errno_text()};
  }
  auto fd = open_checked(fd_, name, path_ / name, setting_);
  if (!fd) return std::move(fd).err();
  return private_dir(*fd, path_ / name, setting_);
}

private_dir::private_dir(private_dir&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      setting_(std::move(other.setting_)) {}

private_dir& private_dir::operator=(private_dir&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    setting_ = std::move(other.setting_);
  }
  return *this;
}

private_dir::~private_dir() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<std::string> private_dir::read_file(const std::string& name,
                                                  std::size_t max_bytes) const {
  const int fd = ::openat(fd_, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string data;
  char buf[16384];
  ssize_t n = 0;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 && data.size() <= max_bytes)
    data.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  if (n < 0 || data.size() > max_bytes) return std::nullopt;
  return data;
}

result<void> private_dir::replace_file(const std::string& name, const std::string& data,
                                       mode_t mode) const {
  const std::string tmp = "." + name + "." + random_suffix() + ".tmp";
  const int fd =
      ::openat(fd_, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) {
    return error{error_kind::storage, "cannot write " + (path_ / tmp).string() + ": " +
                                          errno_text() + "; check " + setting_ +
                                          " and its permissions"};
  }
  // The mode given to open is filtered by the umask; keys must be exactly 0600.
  bool ok = ::fchmod(fd, mode) == 0;
  for (std::size_t done = 0; ok && done < data.size();) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n <= 0)
      ok = false;
    else
      done += static_cast<std::size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  const std::string failure = ok ? std::string() : errno_text();
  ::close(fd);
  if (ok && ::renameat(fd_, tmp.c_str(), fd_, name.c_str()) == 0) return {};
  const std::string why = ok ? errno_text() : failure;
  ::unlinkat(fd_, tmp.c_str(), 0);
  return error{error_kind::storage, "cannot replace " + (path_ / name).string() + ": " + why +
                                        "; check the free space and permissions of " + setting_};
}

}  // namespace certfleet::serving
