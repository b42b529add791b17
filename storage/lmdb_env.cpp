#include "storage/lmdb_env.hpp"

#include "core/process_guard.hpp"

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <fstream>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <set>

namespace certfleet::storage {
namespace fs = std::filesystem;

namespace {

MDB_val to_val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }

std::string_view from_val(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

std::string octal_mode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// "Never open the same environment twice in one process" (LMDB's locks are per process).
std::mutex registry_mutex;
std::set<std::string> open_dirs;

error storage_error(std::string detail) { return {error_kind::storage, std::move(detail)}; }

// The daemon's state holds private keys: only its owner may reach it.
result<void> prepare_private_dir(const fs::path& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT) return lmdb_error(errno, "stat state directory " + dir.string());
    std::error_code ec;
    if (dir.has_parent_path()) fs::create_directories(dir.parent_path(), ec);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
      return lmdb_error(errno, "create state directory " + dir.string());
    if (::chmod(dir.c_str(), 0700) != 0) return lmdb_error(errno, "chmod 700 " + dir.string());
    if (::stat(dir.c_str(), &st) != 0) return lmdb_error(errno, "stat " + dir.string());
  }
  if (!S_ISDIR(st.st_mode))
    return storage_error("state directory " + dir.string() + " is not a directory");
  if (st.st_uid != ::geteuid())
    return storage_error("state directory " + dir.string() + " is owned by uid " +
                         std::to_string(st.st_uid) + ", not by the user running certfleet (uid " +
                         std::to_string(::geteuid()) +
                         "); run certfleetd as its owner, or chown the directory to that user");
  if ((st.st_mode & 077) != 0)
    return storage_error("state directory " + dir.string() + " has mode " + octal_mode(st.st_mode) +
                         ", but it holds private keys and must be accessible only by its "
                         "owner; run: chmod 700 " +
                         dir.string());
  return {};
}

result<void> check_private_file(const fs::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return {};  // lock file may be elsewhere; nothing to check
  if ((st.st_mode & 077) != 0)
    return storage_error("state file " + file.string() + " has mode " + octal_mode(st.st_mode) +
                         ", but it must be readable only by its owner; run: chmod 600 " +
                         file.string());
  return {};
}

// What to do about a damaged data.mdb; said by every message about one.
std::string damage_advice(const fs::path& file) {
  return ": restore it from a backup, or move it aside (mv " + file.string() + " " + file.string() +
         ".damaged) to start fresh; certfleetd then orders every certificate again";
}

std::uintmax_t size_of(const fs::path& file, bool& exists) {
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  exists = !ec;
  return ec ? 0 : size;
}

// A data.mdb that is missing or empty where the state was used before (its lock.mdb is
// there, or export_dir holds exported certificates) is most likely lost, not new:
// starting over would re-order every certificate and register a new account without a
// word. The operator decides (--new-state).
result<void> refuse_lost_state(const fs::path& dir, const env_options& opts) {
  if (opts.allow_new_state) return {};
  bool exists = false;
  const auto size = size_of(dir / "data.mdb", exists);
  if (exists && size > 0) return {};
  const std::string start_over =
      "start certfleetd once with --new-state to begin with an empty state (every certificate "
      "and the ACME account are then obtained again)";
  std::error_code ec;
  if (fs::exists(dir / "lock.mdb", ec)) {
    return storage_error("state file " + (dir / "data.mdb").string() + " is " +
                         (exists ? "empty" : "missing") + ", but " + dir.string() +
                         " held certfleet state before (lock.mdb is there): restore data.mdb "
                         "from a backup, or " +
                         start_over);
  }
  if (opts.exported_dir.empty()) return {};
  const bool exported = fs::directory_iterator(opts.exported_dir, ec) != fs::directory_iterator();
  if (ec || !exported) return {};
  return storage_error("no certfleet state in " + dir.string() + ", but " +
                       opts.exported_dir.string() +
                       " (export_dir) holds certificates it exported: the state was lost or "
                       "state_dir points elsewhere. Restore the state from a backup or fix "
                       "state_dir; or " +
                       start_over);
}

// A data.mdb shorter than the pages its own meta page counts would make the first read
// of a missing page end the process with SIGBUS (LMDB maps the file): refuse it first.
result<void> check_not_truncated(MDB_env* env, const fs::path& dir) {
  MDB_envinfo info{};
  MDB_stat stat{};
  if (::mdb_env_info(env, &info) != 0 || ::mdb_env_stat(env, &stat) != 0) return {};
  const fs::path file = dir / "data.mdb";
  bool exists = false;
  const auto size = size_of(file, exists);
  const auto needed = (static_cast<std::uintmax_t>(info.me_last_pgno) + 1) * stat.ms_psize;
  if (!exists || size >= needed) return {};
  return storage_error("state file " + file.string() + " is damaged: it is " +
                       std::to_string(size) + " bytes, but its own index needs " +
                       std::to_string(needed) + " (it was truncated)" + damage_advice(file));
}

}  // namespace

error lmdb_error(int rc, std::string_view what) {
  const bool transient = rc == EIO || rc == ENOSPC || rc == EAGAIN || rc == EINTR || rc == ENOMEM ||
                         rc == EDQUOT || rc == MDB_MAP_FULL || rc == MDB_READERS_FULL;
  std::string detail = "LMDB: " + std::string(what) + ": " + ::mdb_strerror(rc);
  if (rc == ENOSPC || rc == EDQUOT)
    detail += " (the file system holding the state directory is full; free space there)";
  return {error_kind::storage, std::move(detail), transient};
}

// ---- read_txn / write_txn -------------------------------------------------------------

read_txn::read_txn(read_txn&& other) noexcept
    : lock_(std::move(other.lock_)), txn_(std::exchange(other.txn_, nullptr)) {}

read_txn::~read_txn() {
  if (txn_ != nullptr) ::mdb_txn_abort(txn_);
}

result<std::optional<std::string_view>> read_txn::find(MDB_dbi dbi, std::string_view key) const {
  MDB_val k = to_val(key), v{};
  int rc = ::mdb_get(txn_, dbi, &k, &v);
  if (rc == MDB_NOTFOUND) return std::optional<std::string_view>{};
  if (rc != 0) return lmdb_error(rc, "read");
  return std::optional<std::string_view>{from_val(v)};
}

result<void> write_txn::check(int rc, std::string_view what) {
  if (rc == 0) return {};
  if (rc == MDB_MAP_FULL) map_full_ = true;
  return lmdb_error(rc, what);
}

result<void> write_txn::put(MDB_dbi dbi, std::string_view key, std::string_view value) {
  MDB_val k = to_val(key), v = to_val(value);
  return check(::mdb_put(txn_, dbi, &k, &v, 0), "put");
}

result<void> write_txn::erase(MDB_dbi dbi, std::string_view key) {
  MDB_val k = to_val(key);
  int rc = ::mdb_del(txn_, dbi, &k, nullptr);
  if (rc == MDB_NOTFOUND) return {};
  return check(rc, "delete");
}

result<std::optional<std::string_view>> write_txn::find(MDB_dbi dbi, std::string_view key) const {
  MDB_val k = to_val(key), v{};
  int rc = ::mdb_get(txn_, dbi, &k, &v);
  if (rc == MDB_NOTFOUND) return std::optional<std::string_view>{};
  if (rc != 0) return lmdb_error(rc, "read");
  return std::optional<std::string_view>{from_val(v)};
}

// ---- lmdb_env -------------------------------------------------------------------------

lmdb_env::lmdb_env(MDB_env* env, open_mode mode, fs::path dir, env_options opts)
    : env_(env), mode_(mode), dir_(std::move(dir)), opts_(opts) {}

lmdb_env::~lmdb_env() {
  ::mdb_env_close(env_);
  std::lock_guard g(registry_mutex);
  open_dirs.erase(dir_.string());
}

result<std::unique_ptr<lmdb_env>> lmdb_env::open(const fs::path& dir_in, open_mode mode,
                                                 const env_options& opts) {
  if (mode == open_mode::read_write) {
    if (auto r = prepare_private_dir(dir_in); !r) return std::move(r).err();
  } else if (std::error_code ec; !fs::is_directory(dir_in, ec)) {
    return storage_error("state directory " + dir_in.string() +
                         " does not exist or cannot be reached; check the path, and run this "
                         "command as the user certfleetd runs as");
  }
  std::error_code ec;
  fs::path dir = fs::weakly_canonical(dir_in, ec);
  if (ec) dir = dir_in;
  {
    std::lock_guard g(registry_mutex);
    if (!open_dirs.insert(dir.string()).second)
      return storage_error("state directory " + dir.string() +
                           " is already open in this process (one LMDB environment per process)");
  }
  auto unregister = [&] {
    std::lock_guard g(registry_mutex);
    open_dirs.erase(dir.string());
  };

  if (mode == open_mode::read_write) {
    if (auto r = refuse_lost_state(dir, opts); !r) {
      unregister();
      return std::move(r).err();
    }
  }
  MDB_env* env = nullptr;
  int rc = ::mdb_env_create(&env);
  if (rc == 0) rc = ::mdb_env_set_maxdbs(env, opts.max_dbs);
  if (rc == 0) rc = ::mdb_env_set_maxreaders(env, opts.max_readers);
  if (rc == 0 && mode == open_mode::read_write)
    rc = ::mdb_env_set_mapsize(env, opts.initial_map_size);
  unsigned flags = MDB_NOTLS | (mode == open_mode::read_only ? MDB_RDONLY : 0u);
  if (rc == 0) rc = ::mdb_env_open(env, dir.c_str(), flags, 0600);
  if (rc == 0) {
    mdb_filehandle_t fd = -1;
    if (::mdb_env_get_fd(env, &fd) == 0) close_on_exec(fd);  // LMDB opens it without
  }
  if (rc != 0) {
    if (env != nullptr) ::mdb_env_close(env);
    unregister();
    if (mode == open_mode::read_only && (rc == EACCES || rc == EPERM || rc == EROFS))
      return storage_error("cannot open the state in " + dir.string() + " (" + ::mdb_strerror(rc) +
                           "): reading it needs write access to its lock.mdb; run this command "
                           "as the daemon's user (the owner of " +
                           dir.string() + ")");
    if (mode == open_mode::read_only && rc == ENOENT)
      return storage_error("no certfleet state in " + dir.string() +
                           " (data.mdb is missing); has certfleetd run with this state directory?");
    if (rc == MDB_INVALID || rc == MDB_CORRUPTED || rc == MDB_VERSION_MISMATCH || rc == EINVAL)
      return storage_error("state file " + (dir / "data.mdb").string() +
                           " is damaged or not an LMDB file (" + ::mdb_strerror(rc) + ")" +
                           damage_advice(dir / "data.mdb"));
    return lmdb_error(rc, "open state directory " + dir.string());
  }
  std::unique_ptr<lmdb_env> self(new lmdb_env(env, mode, dir, opts));
  if (auto r = check_not_truncated(env, dir); !r) return std::move(r).err();
  if (mode == open_mode::read_write) {
    for (const char* name : {"data.mdb", "lock.mdb"})
      if (auto r = check_private_file(dir / name); !r) return std::move(r).err();
  }
  return self;
}

result<MDB_dbi> lmdb_env::open_dbi(const char* name, bool create) {
  MDB_dbi dbi = 0;
  if (create) {
    auto r = write([&](write_txn& txn) {
      return txn.check(::mdb_dbi_open(txn.get(), name, MDB_CREATE, &dbi),
                       std::string("create database ") + name);
    });
    if (!r) return std::move(r).err();
    return dbi;
  }
  auto txn = begin_read();
  if (!txn) return std::move(txn).err();
  int rc = ::mdb_dbi_open(txn->get(), name, 0, &dbi);
  if (rc == MDB_NOTFOUND)
    return storage_error("database \"" + std::string(name) + "\" is missing from " + dir_.string() +
                         "; has certfleetd initialised this state directory?");
  if (rc != 0) return lmdb_error(rc, std::string("open database ") + name);
  // A handle opened in a transaction survives only if that transaction commits.
  MDB_txn* raw = std::exchange(txn->txn_, nullptr);
  rc = ::mdb_txn_commit(raw);
  if (rc != 0) return lmdb_error(rc, std::string("open database ") + name);
  return dbi;
}

result<read_txn> lmdb_env::begin_read() {
  for (int attempt = 0; attempt < 8; ++attempt) {
    std::shared_lock lock(map_mutex_);
    MDB_txn* txn = nullptr;
    int rc = ::mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
    if (rc == 0) return read_txn(std::move(lock), txn);
    if (rc != MDB_MAP_RESIZED) return lmdb_error(rc, "begin read transaction");
    lock.unlock();
    if (auto r = adopt_map_size(); !r) return std::move(r).err();
  }
  return storage_error("LMDB: the map kept being resized while starting a read; try again");
}

result<void> lmdb_env::write(const std::function<result<void>(write_txn&)>& body) {
  if (mode_ != open_mode::read_write)
    return storage_error("state directory " + dir_.string() + " is open read-only");
  std::lock_guard guard(write_mutex_);
  // Each retry at least doubles the map, so this bounds growth from 1 MiB to > 1 TiB.
  for (int attempt = 0; attempt < 48; ++attempt) {
    MDB_txn* raw = nullptr;
    int rc = ::mdb_txn_begin(env_, nullptr, 0, &raw);
    if (rc == MDB_MAP_RESIZED) {
      if (auto r = adopt_map_size(); !r) return r;
      continue;
    }
    if (rc != 0) return lmdb_error(rc, "begin write transaction");
    write_txn txn(raw);
    auto r = body(txn);
    if (!r) {
      ::mdb_txn_abort(raw);
      if (!txn.map_full_) return r;
      if (auto g = grow_map(); !g) return g;
      continue;
    }
    rc = ::mdb_txn_commit(raw);  // frees the transaction whatever the outcome
    if (rc == MDB_MAP_FULL) {
      if (auto g = grow_map(); !g) return g;
      continue;
    }
    if (rc != 0) return commit_error(rc);
    return {};
  }
  return storage_error("LMDB: the map could not be grown enough to commit");
}

// What an operator must read when state cannot be stored: the cause, the directory and
// what to do. LMDB reports a short write as EIO, and a full file system is its usual
// cause, so a commit that fails with EIO on a (nearly) full file system says so.
error lmdb_env::commit_error(int rc) const {
  int cause = rc;
  struct statvfs fs {};
  if (rc == EIO && ::statvfs(dir_.c_str(), &fs) == 0) {
    const auto free_blocks = ::geteuid() == 0 ? fs.f_bfree : fs.f_bavail;  // root may use all
    if (free_blocks * fs.f_frsize < (std::size_t{1} << 20)) cause = ENOSPC;
  }
  std::string why = ::mdb_strerror(cause);
  if (!why.empty()) why[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(why[0])));
  std::string detail = "could not save state: " + why + " in " + dir_.string();
  if (cause == ENOSPC || cause == EDQUOT)
    detail += "; free space on that file system";
  else if (cause == EACCES || cause == EPERM || cause == EROFS)
    detail += "; make it writable by certfleetd";
  else
    detail += "; check that disk and the kernel log";
  detail += " (certfleetd keeps the change in memory and stores it again on its own)";
  return {error_kind::storage, std::move(detail), true};
}

result<void> lmdb_env::grow_map() {
  std::unique_lock lock(map_mutex_);  // waits for this process's read transactions to end
  std::size_t current = map_size();
  if (current >= opts_.max_map_size)
    return error(error_kind::storage,
                 "the state database in " + dir_.string() + " reached its size limit of " +
                     std::to_string(opts_.max_map_size >> 20) + " MiB",
                 true);
  std::size_t next = std::min(current * 2, opts_.max_map_size);
  int rc = ::mdb_env_set_mapsize(env_, next);
  if (rc != 0) return lmdb_error(rc, "grow the map to " + std::to_string(next >> 20) + " MiB");
  return {};
}

result<void> lmdb_env::adopt_map_size() {
  std::unique_lock lock(map_mutex_);
  int rc = ::mdb_env_set_mapsize(env_, 0);  // 0: take the size another process set
  if (rc != 0) return lmdb_error(rc, "adopt the map size grown by another process");
  ++resizes_adopted_;
  return {};
}

result<std::size_t> lmdb_env::reader_check() {
  int dead = 0;
  int rc = ::mdb_reader_check(env_, &dead);
  if (rc != 0) return lmdb_error(rc, "check readers");
  return static_cast<std::size_t>(dead);
}

void lmdb_env::release_resident_pages() {
  std::shared_lock lock(map_mutex_);  // not while the map is being resized
  // mdb_env_info reports the map's address only for MDB_FIXEDMAP: find it in our maps.
  const std::string file = (dir_ / "data.mdb").string();
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);) {
    if (line.size() < file.size() ||
        line.compare(line.size() - file.size(), file.size(), file) != 0)
      continue;
    unsigned long start = 0, end = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx", &start, &end) == 2 && end > start) {
      ::madvise(reinterpret_cast<void*>(start), end - start, MADV_DONTNEED);
    }
  }
}

std::size_t lmdb_env::map_size() const {
  MDB_envinfo info{};
  ::mdb_env_info(env_, &info);
  return info.me_mapsize;
}

std::size_t lmdb_env::file_size() const {
  struct stat st {};
  if (::stat((dir_ / "data.mdb").c_str(), &st) != 0) return 0;
  return static_cast<std::size_t>(st.st_size);
}

}  // namespace certfleet::storage
