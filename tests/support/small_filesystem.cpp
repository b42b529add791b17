#include "tests/support/small_filesystem.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace certfleet::testing {

small_filesystem::small_filesystem(std::filesystem::path mount_point, std::size_t bytes)
    : path_(std::move(mount_point)) {
  std::error_code ec;
  std::filesystem::create_directories(path_, ec);
  const std::string options = "size=" + std::to_string(bytes) + ",mode=0700";
  if (::mount("tmpfs", path_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) == 0) {
    mounted_ = true;
  } else {
    why_ = "cannot mount a small tmpfs at " + path_.string() + " (" + std::strerror(errno) +
           "): run the tests as root to exercise a full disk";
  }
}

small_filesystem::~small_filesystem() {
  if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
}

void small_filesystem::fill(const std::string& filler) {
  const int fd = ::open((path_ / filler).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return;
  const std::vector<char> block(64 * 1024, 'x');
  // Big blocks first, then single bytes for the last partial block. Bounded: a tmpfs of
  // n bytes takes at most n bytes.
  for (std::size_t size = block.size(); size >= 1; size /= 16)
    while (::write(fd, block.data(), size) == static_cast<ssize_t>(size)) {
    }
  ::close(fd);
}

void small_filesystem::free_space(const std::string& filler) {
  std::error_code ec;
  std::filesystem::remove(path_ / filler, ec);
}

}  // namespace certfleet::testing
