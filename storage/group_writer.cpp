#include "storage/group_writer.hpp"

#include "core/metrics.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace certfleet::storage {

using steady = std::chrono::steady_clock;

namespace {
group_writer_options sanitized(group_writer_options o) {
  if (o.max_group == 0) o.max_group = 1;
  if (o.max_queued < o.max_group) o.max_queued = o.max_group;
  return o;
}
}  // namespace

group_writer::group_writer(store& s, group_writer_options opts)
    : store_(s), opts_(sanitized(opts)), thread_([this] { run(); }) {}

group_writer::~group_writer() {
  {
    std::lock_guard lk(mutex_);
    stopping_ = true;
  }
  work_cv_.notify_one();
  thread_.join();
}

void group_writer::submit(write_batch change, callback on_durable) {
  if (auto r = store::validate(change); !r) {
    if (on_durable) on_durable(std::move(r));
    return;
  }
  bool wake = false;
  {
    std::unique_lock lk(mutex_);
    // The writer thread itself must never wait for room it alone can make.
    if (std::this_thread::get_id() != thread_.get_id())
      space_cv_.wait(lk, [&] { return queue_.size() < opts_.max_queued || stopping_; });
    queue_.push_back(item{std::move(change), std::move(on_durable), steady::now()});
    ++submitted_;
    wake = queue_.size() == 1 || queue_.size() == opts_.max_group;
  }
  if (wake) work_cv_.notify_one();
}

void group_writer::flush() {
  std::unique_lock lk(mutex_);
  const std::uint64_t target = submitted_;
  done_cv_.wait(lk, [&] { return answered_ >= target; });
}

void group_writer::request_reader_check() {
  {
    std::lock_guard lk(mutex_);
    reader_check_requested_ = true;
  }
  work_cv_.notify_one();
}

group_writer_stats group_writer::stats() const {
  std::lock_guard lk(mutex_);
  return stats_;
}

void group_writer::run() {
  auto next_check = steady::now() + opts_.reader_check_interval;
  std::vector<write_batch> changes;
  std::vector<callback> callbacks;
  std::unique_lock lk(mutex_);
  for (;;) {
    work_cv_.wait_until(lk, next_check,
                        [&] { return !queue_.empty() || stopping_ || reader_check_requested_; });
    if (reader_check_requested_ || steady::now() >= next_check) {
      reader_check_requested_ = false;
      next_check = steady::now() + opts_.reader_check_interval;
      lk.unlock();
      auto cleared = store_.reader_check();
      lk.lock();
      if (cleared) stats_.stale_readers_cleared += *cleared;
    }
    if (queue_.empty()) {
      if (stopping_) return;
      continue;
    }
    // Gather: give changes that arrive soon after the first one the same fsync. Changes
    // that queued up during the previous commit have waited long enough already.
    const auto deadline = queue_.front().queued_at + opts_.gather_window;
    work_cv_.wait_until(lk, deadline,
                        [&] { return queue_.size() >= opts_.max_group || stopping_; });
    const std::size_t n = std::min(queue_.size(), opts_.max_group);
    for (std::size_t i = 0; i < n; ++i) {
      changes.push_back(std::move(queue_.front().change));
      callbacks.push_back(std::move(queue_.front().on_durable));
      queue_.pop_front();
    }
    space_cv_.notify_all();
    lk.unlock();

    auto outcome = store_.commit(changes);
    if (outcome)
      metrics::global().last_save_unix = std::chrono::duration_cast<std::chrono::seconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count();
    else
      metrics::global().save_failures++;
    for (auto& cb : callbacks)
      if (cb) cb(outcome);

    lk.lock();
    answered_ += n;
    stats_.changes += n;
    ++stats_.groups;
    if (!outcome) ++stats_.failed_groups;
    changes.clear();
    callbacks.clear();
    done_cv_.notify_all();
  }
}

}  // namespace certfleet::storage
