// The summary a failed end-to-end test prints from pebble's goroutine dump.

#include "tests/support/goroutine_dump.hpp"

#include <gtest/gtest.h>

namespace certfleet::testing {
namespace {

// Trimmed from a real dump of a wedged pebble 2.4 (SIGQUIT).
const std::string dump = R"(SIGQUIT: quit
PC=0x46a1a1 m=0 sigcode=0

goroutine 20 [chan receive]:
runtime.gopark(0xc00048c780?, 0xc00004deb0?, 0x5f?, 0xf2?, 0x7f3c28cef5b8?)
	runtime/proc.go:363 +0xd6 fp=0xc00004de30 sp=0xc00004de10 pc=0x43a056
github.com/letsencrypt/pebble/va.VAImpl.processTasks({0xc000080230, 0x7af5, {0x7ffc48ff1a2f, 0xf}, ...})
	github.com/letsencrypt/pebble/va/va.go:170 +0x54 fp=0xc00004df80 sp=0xc00004dee8 pc=0x7032d4
created by github.com/letsencrypt/pebble/va.New
	github.com/letsencrypt/pebble/va/va.go:155 +0x3b8

goroutine 28 [semacquire]:
runtime.gopark(0x3?, 0xc0009bba20?, 0x20?, 0x6d?, 0x14e?)
	runtime/proc.go:363 +0xd6 fp=0xc00049afa0 sp=0xc00049af80 pc=0x43a056
sync.runtime_SemacquireMutex(0xc0009e1540?, 0x63?, 0x203000?)
	runtime/sema.go:77 +0x25 fp=0xc00049b038 sp=0xc00049b008 pc=0x4632e5
sync.(*Mutex).lockSlow(0xc0000fe080)
	sync/mutex.go:171 +0x165 fp=0xc00049b088 sp=0xc00049b038 pc=0x4789e5
sync.(*RWMutex).Lock(0x0?)
	sync/rwmutex.go:147 +0x36 fp=0xc00049b0b8 sp=0xc00049b088 pc=0x479f36
github.com/letsencrypt/pebble/db.(*MemoryStore).AddChallenge(0xc0000fe080, 0xc000a6e500)
	github.com/letsencrypt/pebble/db/memorystore.go:281 +0x5d fp=0xc00049b148 sp=0xc00049b0b8 pc=0x6a223d
github.com/letsencrypt/pebble/wfe.(*WebFrontEndImpl).makeChallenge(0xc0000240f0, {0x7b3eee, 0x7}, 0xc000ac1d40, 0xc00049b230?)
	github.com/letsencrypt/pebble/wfe/wfe.go:1563 +0x218 fp=0xc00049b1e0 sp=0xc00049b148 pc=0x715b98

goroutine 36 [semacquire]:
sync.runtime_SemacquireMutex(0x779c40?, 0x10?, 0x32?)
	runtime/sema.go:77 +0x25 fp=0xc0000c35b0 sp=0xc0000c3580 pc=0x4632e5
sync.(*RWMutex).RLock(...)
	sync/rwmutex.go:71
github.com/letsencrypt/pebble/db.(*MemoryStore).GetAccountByKey(0xc0000fe080, {0x779c40?, 0xc0002be510?})
	github.com/letsencrypt/pebble/db/memorystore.go:92 +0x95 fp=0xc0000c3628 sp=0xc0000c35b0 pc=0x6a00d5
github.com/letsencrypt/pebble/wfe.(*WebFrontEndImpl).Authz(0xc0000240f0, {0xc0000a6008?, 0xa53f20?}, {0x852f48, 0xc0002421c0}, 0xc0000fd400)
	github.com/letsencrypt/pebble/wfe/wfe.go:2070 +0x22a fp=0xc0000c37e8 sp=0xc0000c3678 pc=0x719caa

goroutine 29 [semacquire]:
sync.(*RWMutex).RLock(...)
	sync/rwmutex.go:71
github.com/letsencrypt/pebble/db.(*MemoryStore).GetAccountByKey(0xc0000fe080, {0x779c40?, 0xc0002be999?})
	github.com/letsencrypt/pebble/db/memorystore.go:92 +0x95 fp=0xc0000c3628 sp=0xc0000c35b0 pc=0x6a00d5
github.com/letsencrypt/pebble/wfe.(*WebFrontEndImpl).Authz(0xc0000240f0, {0xc0000a6008?, 0xa53f20?}, {0x852f48, 0xc0002421c0}, 0xc0000fd999)
	github.com/letsencrypt/pebble/wfe/wfe.go:2070 +0x22a fp=0xc0000c37e8 sp=0xc0000c3678 pc=0x719caa
)";

TEST(goroutine_dump, goroutines_on_locks_are_grouped_by_stack_without_runtime_frames) {
  EXPECT_EQ(blocked_goroutines(dump),
            "1 x db.(*MemoryStore).AddChallenge <- wfe.(*WebFrontEndImpl).makeChallenge\n"
            "2 x db.(*MemoryStore).GetAccountByKey <- wfe.(*WebFrontEndImpl).Authz\n");
}

TEST(goroutine_dump, nothing_on_a_lock_is_an_empty_summary) {
  EXPECT_EQ(blocked_goroutines(""), "");
  EXPECT_EQ(blocked_goroutines(dump.substr(0, dump.find("goroutine 28"))), "")
      << "a goroutine waiting on a channel is not on a lock";
}

}  // namespace
}  // namespace certfleet::testing
