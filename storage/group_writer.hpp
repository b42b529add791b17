#pragma once
// The single writer of a store, with group commit.
//
// submit() queues a change; a thread of its own takes everything queued (up to
// max_group changes, waiting up to gather_window after the first for more to arrive),
// applies the changes in submission order in one LMDB transaction (so a later change to
// the same domain wins), commits it durably (LMDB's default fsync), and only then calls
// each change's on_durable, in submission order, ON THE WRITER THREAD. Callbacks must be
// short and must not block on the writer (flush() from a callback would deadlock);
// submit() from a callback is fine and never blocks.
//
// If a commit fails (e.g. the disk is full or the map could not grow), every change of
// that group gets the error and the writer carries on with the next group.
//
// Backpressure: at most max_queued changes wait; submit() from other threads blocks
// until there is room.
//
// Every reader_check_interval (and on request_reader_check()) the writer clears reader
// slots left by dead processes, so a killed CLI cannot make the file grow without bound.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "core/error.hpp"
#include "storage/store.hpp"

namespace certfleet::storage {

struct group_writer_options {
  std::size_t max_group = 1000;
  /// Every commit costs two fsyncs and wakes the writer. With 16 orders in flight,
  /// 8 ms instead of 2 took certfleetd from 2.1-2.4 to 1.8-1.9 ms of CPU per issued
  /// certificate (500 domains), and 20 instead of 8 from 1.88-2.43 (mean 2.11) to
  /// 1.70-2.22 (mean 1.94) at 1000, lower in 6 of 6 interleaved pairs; the price is
  /// up to 20 ms more per durable step (1000 certificates: 7.5 -> 8.3 s).
  std::chrono::microseconds gather_window{std::chrono::milliseconds{20}};
  std::size_t max_queued = 50'000;
  std::chrono::milliseconds reader_check_interval{std::chrono::seconds{30}};
};

struct group_writer_stats {
  std::uint64_t changes = 0;        ///< changes whose on_durable has been called
  std::uint64_t groups = 0;         ///< transactions attempted
  std::uint64_t failed_groups = 0;  ///< transactions that failed
  std::uint64_t stale_readers_cleared = 0;
};

class group_writer {
 public:
  using callback = std::function<void(result<void>)>;

  /// Starts the writer thread. s must outlive this object, and nothing else may write
  /// to s while it exists.
  explicit group_writer(store& s, group_writer_options opts = {});
  /// Commits everything already submitted, calls its callbacks, then stops the thread.
  ~group_writer();
  group_writer(const group_writer&) = delete;
  group_writer& operator=(const group_writer&) = delete;

  /// Queues change; on_durable (may be empty) gets the outcome once it is durable or has
  /// failed. An invalid change (see store::validate) is answered at once, on this thread.
  void submit(write_batch change, callback on_durable);

  /// Blocks until every change submitted before this call has been answered.
  /// Must not be called from an on_durable callback.
  void flush();

  /// Asks the writer thread to run reader_check soon.
  void request_reader_check();

  group_writer_stats stats() const;

 private:
  struct item {
    write_batch change;
    callback on_durable;
    std::chrono::steady_clock::time_point queued_at;
  };
  void run();

  store& store_;
  group_writer_options opts_;
  mutable std::mutex mutex_;
  std::condition_variable work_cv_;   // writer waits for work
  std::condition_variable space_cv_;  // submitters wait for room
  std::condition_variable done_cv_;   // flush waits for answers
  std::deque<item> queue_;
  std::uint64_t submitted_ = 0;
  std::uint64_t answered_ = 0;
  bool stopping_ = false;
  bool reader_check_requested_ = false;
  group_writer_stats stats_;
  std::thread thread_;  // last: starts after everything above is initialised
};

}  // namespace certfleet::storage
