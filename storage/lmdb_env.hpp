#pragma once
// RAII over LMDB: one MDB_env per state directory and process, short transactions,
// and the two LMDB situations a caller should never see:
//  - MDB_MAP_FULL in the writer: abort, double the map, run the transaction again;
//  - MDB_MAP_RESIZED in a reader (another process grew the map): adopt the new size, retry.
//
// Threads: read transactions use MDB_NOTLS and may be opened from any thread. Growing
// the map needs every read transaction of this process closed, so read transactions hold
// a shared lock and growing takes it exclusively: never call write() on a thread that
// holds a read_txn.

#include <lmdb.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace certfleet::storage {

/// Who opens the state directory.
enum class open_mode {
  read_write,  ///< the daemon: creates the directory (0700) and files (0600), the one writer
  read_only,   ///< the CLI: MDB_RDONLY, never blocks the daemon; needs write access to lock.mdb
};

struct env_options {
  std::size_t initial_map_size = std::size_t{64} << 20;  ///< bytes; grows by doubling when full
  std::size_t max_map_size = std::size_t{1} << 40;       ///< growth stops here (1 TiB)
  unsigned max_dbs = 8;
  unsigned max_readers = 126;
  /// read_write: start from an empty state even though the directory was used before
  /// (its lock.mdb exists) and data.mdb is missing or empty. Off: such a directory is
  /// refused, since starting over orders every certificate and the account again.
  bool allow_new_state = false;
  /// export_dir: certificates exported there also show that the state was used before,
  /// when the whole state directory is gone (empty: not checked).
  std::filesystem::path exported_dir;
};

/// An LMDB failure as a certfleet error (kind storage). I/O failures (EIO, ENOSPC, ...)
/// are retryable; `what` says which operation failed.
error lmdb_error(int rc, std::string_view what);

class lmdb_env;

/// A read-only snapshot. Ends (aborts) when destroyed. Keep it short-lived.
class read_txn {
 public:
  read_txn(read_txn&& other) noexcept;
  read_txn& operator=(read_txn&&) = delete;
  read_txn(const read_txn&) = delete;
  ~read_txn();

  MDB_txn* get() const { return txn_; }
  /// The value stored under key, or nullopt. The view points into the map and is valid
  /// until this transaction ends.
  result<std::optional<std::string_view>> find(MDB_dbi dbi, std::string_view key) const;

 private:
  friend class lmdb_env;
  read_txn(std::shared_lock<std::shared_mutex> lock, MDB_txn* txn)
      : lock_(std::move(lock)), txn_(txn) {}
  std::shared_lock<std::shared_mutex> lock_;
  MDB_txn* txn_ = nullptr;
};

/// The write transaction handed to the body of lmdb_env::write().
class write_txn {
 public:
  MDB_txn* get() const { return txn_; }
  result<void> put(MDB_dbi dbi, std::string_view key, std::string_view value);
  /// Deletes key; a missing key is not an error.
  result<void> erase(MDB_dbi dbi, std::string_view key);
  result<std::optional<std::string_view>> find(MDB_dbi dbi, std::string_view key) const;
  /// Turns an LMDB return code into a result, remembering MDB_MAP_FULL so that write()
  /// grows the map and retries. Bodies use it for calls made on get() directly.
  result<void> check(int rc, std::string_view what);

 private:
  friend class lmdb_env;
  explicit write_txn(MDB_txn* txn) : txn_(txn) {}
  MDB_txn* txn_;
  bool map_full_ = false;
};

/// One LMDB environment (data.mdb + lock.mdb in a state directory).
class lmdb_env {
 public:
  /// Opens (read_write: creates) the environment in dir.
  /// Errors (kind storage, with what to do): the directory is group/world-accessible or
  /// owned by another user (read_write); it is missing or lock.mdb is not writable
  /// (read_only); the same directory is already open in this process.
  static result<std::unique_ptr<lmdb_env>> open(const std::filesystem::path& dir, open_mode mode,
                                                const env_options& opts = {});
  ~lmdb_env();
  lmdb_env(const lmdb_env&) = delete;
  lmdb_env& operator=(const lmdb_env&) = delete;

  MDB_env* get() const { return env_; }
  open_mode mode() const { return mode_; }
  const std::filesystem::path& dir() const { return dir_; }

  /// Opens a named database. create: in a write transaction, creating it if missing
  /// (read_write only). Otherwise a missing database is an error.
  result<MDB_dbi> open_dbi(const char* name, bool create);

  /// Starts a snapshot; retries once the map has been adopted after MDB_MAP_RESIZED.
  result<read_txn> begin_read();

  /// Runs body in one write transaction and commits it durably. If the map is full the
  /// transaction is aborted, the map doubled and body run again from the start, so body
  /// must depend only on its inputs. A body error aborts the transaction.
  result<void> write(const std::function<result<void>(write_txn&)>& body);

  /// Clears reader slots left by dead processes; returns how many were cleared.
  result<std::size_t> reader_check();

  /// Current map size in bytes (as this process sees it).
  std::size_t map_size() const;
  /// Lets the kernel drop the map's resident pages (they are clean: nothing is
  /// written through the map; Linux only, via /proc/self/maps). A bulk scan faults in the whole
  /// file; afterwards the daemon reads a record at a time, so those pages need not stay resident.
  void release_resident_pages();
  /// Size of data.mdb on disk, in bytes.
  std::size_t file_size() const;
  /// How often this process adopted a map grown by another process (MDB_MAP_RESIZED).
  std::uint64_t map_resizes_adopted() const { return resizes_adopted_.load(); }

 private:
  lmdb_env(MDB_env* env, open_mode mode, std::filesystem::path dir, env_options opts);
  result<void> grow_map();
  result<void> adopt_map_size();
  error commit_error(int rc) const;

  MDB_env* env_;
  open_mode mode_;
  std::filesystem::path dir_;
  env_options opts_;
  std::mutex write_mutex_;               // one write transaction at a time in this process
  mutable std::shared_mutex map_mutex_;  // shared: open read txns; exclusive: resizing
  std::atomic<std::uint64_t> resizes_adopted_{0};
};

}  // namespace certfleet::storage
