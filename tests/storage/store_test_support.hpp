#pragma once
// Small helpers the store tests share.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "storage/store.hpp"

namespace certfleet::storage::testing {

/// The permission bits of a file (a failed stat fails the test).
inline unsigned file_mode(const std::filesystem::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

/// A store opened read-write (a failure fails the test).
inline store open_rw(const std::filesystem::path& dir, open_options opts = {}) {
  auto s = store::open(dir, open_mode::read_write, opts);
  if (!s) ADD_FAILURE() << s.err().detail;
  return std::move(s).value();
}

}  // namespace certfleet::storage::testing
