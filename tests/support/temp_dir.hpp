#pragma once
#include <filesystem>

namespace certfleet::testing {

/// A fresh directory under $TMPDIR, removed with everything in it when this goes out of scope.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace certfleet::testing
