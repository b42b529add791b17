#pragma once
// Reads a Go goroutine dump (what pebble prints on SIGQUIT) and keeps what explains a
// hang: the goroutines waiting on a lock, grouped by call stack. Pebble 2.4 can deadlock
// under concurrent load (bench/analysis.md has the mechanism); a failed end-to-end test
// prints this so its log says whether that is what happened.

#include <string>
#include <string_view>

namespace certfleet::testing {

/// One line per distinct stack of a goroutine blocked in sync.(*Mutex)/(*RWMutex):
/// "<count> x <innermost pebble function> <- <caller> <- ..." (runtime and sync frames
/// and argument lists left out). Empty when no goroutine waits on a lock.
std::string blocked_goroutines(std::string_view dump);

}  // namespace certfleet::testing
