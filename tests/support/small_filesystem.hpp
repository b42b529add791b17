#pragma once
// A small tmpfs mounted for one test, to make a disk run full for real. Mounting needs
// root (CAP_SYS_ADMIN): where it is refused, available() is false and says why, and the
// test skips with that message. `.ci/run` runs as root, so there it always runs.

#include <cstddef>
#include <filesystem>
#include <string>

namespace certfleet::testing {

class small_filesystem {
 public:
  /// Mounts a tmpfs of `bytes` at `mount_point` (created if missing).
  small_filesystem(std::filesystem::path mount_point, std::size_t bytes);
  /// Unmounts (lazily, so a file still open cannot keep it).
  ~small_filesystem();
  small_filesystem(const small_filesystem&) = delete;
  small_filesystem& operator=(const small_filesystem&) = delete;

  bool available() const { return mounted_; }
  const std::string& why_unavailable() const { return why_; }
  const std::filesystem::path& path() const { return path_; }

  /// Fills the file system up to its last byte with the file `filler` (in path()).
  void fill(const std::string& filler = "filler");
  /// Removes the filler: space is back.
  void free_space(const std::string& filler = "filler");

 private:
  std::filesystem::path path_;
  bool mounted_ = false;
  std::string why_;
};

}  // namespace certfleet::testing
