#pragma once
// Process-wide protections both executables set up first thing in main(): they hold
// private keys in memory, and map the state file.

namespace certfleet {

/// No core dumps and no ptrace attach by other processes of the same user: either would
/// copy every private key in memory out of the process (PR_SET_DUMPABLE 0, RLIMIT_CORE 0).
void keep_memory_private();

/// Marks `fd` close-on-exec, for descriptors opened by libraries that do not (Asio's
/// sockets, LMDB's data.mdb, c-ares): a deploy_hook that leaves a process behind must not
/// keep port 80 or the state file open. Ignores an invalid fd.
void close_on_exec(int fd);

/// A SIGBUS or SIGSEGV prints one line saying what most likely happened and what to do
/// (the state file was truncated or the disk failed while mapped) before the process
/// dies of the signal as before. `program` must outlive the process (a literal). Nothing
/// in a sanitized build, whose own report says more.
void explain_fatal_signals(const char* program);

}  // namespace certfleet
