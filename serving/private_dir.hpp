#pragma once
// Writing files that hold private keys into a directory safely, as root, where another
// user may have write access: the directory must be owned by this process's user and
// not writable by group or others; files are created under a random name with
// O_EXCL|O_NOFOLLOW on a descriptor of the directory (no path is looked up twice, no
// symlink is followed), synced, then renamed over the target.

#include <sys/types.h>
#include <filesystem>
#include <optional>
#include <string>

#include "core/error.hpp"

namespace certfleet::serving {

class private_dir {
 public:
  /// Opens `path` (created 0755 with its parents when missing) and checks its owner
  /// and mode. `setting` names the directive in errors (e.g. "export_dir"). Errors
  /// (config): not a directory, a symlink, owned by another user, or group/other-writable;
  /// each message names the directory and the command that fixes it.
  static result<private_dir> open(const std::filesystem::path& path, const std::string& setting);
  /// The subdirectory `name` (created 0755 when missing), checked the same way.
  result<private_dir> subdir(const std::string& name) const;

  private_dir(private_dir&& other) noexcept;
  private_dir& operator=(private_dir&& other) noexcept;
  ~private_dir();

  /// Replaces `name` in the directory with `data`, mode `mode`, atomically: readers see
  /// the old file or the new one. A symlink planted at `name` is replaced, not followed.
  result<void> replace_file(const std::string& name, const std::string& data, mode_t mode) const;

  /// The content of the regular file `name` (up to max_bytes; a symlink is not followed), or
  /// nullopt when it cannot be read: whether a replace would change anything.
  std::optional<std::string> read_file(const std::string& name,
                                       std::size_t max_bytes = std::size_t{1} << 20) const;

  const std::filesystem::path& path() const { return path_; }

 private:
  private_dir(int fd, std::filesystem::path path, std::string setting)
      : fd_(fd), path_(std::move(path)), setting_(std::move(setting)) {}
  int fd_ = -1;
  std::filesystem::path path_;
  std::string setting_;
};

}  // namespace certfleet::serving
