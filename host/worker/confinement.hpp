// SPDX-License-Identifier: Apache-2.0
/// @file confinement.hpp
/// What an isolated worker does to itself first: die with the host, gain no
/// privilege, keep only the descriptors it was given, run as the configured
/// user and stay under a memory budget.
#pragma once

#include <cstdint>
#include <optional>
#include <sys/types.h>
#include <vector>

namespace drpc::host::worker {

/// What confine() applies, chosen by the host for one worker.
struct ProcessConfinement {
	/// The host's pid, as the worker saw it before confine(): if the worker's
	/// parent is no longer this process once the death signal is armed, the
	/// host died in between and the worker exits.
	pid_t parent = 0;
	/// Descriptors above 2 to keep open (the host socket, the plugin file);
	/// each must be open. 0, 1 and 2 are always kept.
	std::vector<int> keep_fds;
	/// Run as this user (needs root, or the same uid). Without `gid`, the
	/// user's primary group from the password database is taken, so that a
	/// dropped worker is never left in group root.
	std::optional<uid_t> uid;
	/// Run as this group, with no supplementary groups.
	std::optional<gid_t> gid;
	/// The most private writable memory (heap, anonymous mappings, stacks)
	/// the worker may map after confine(), in bytes: see confine().
	std::optional<uint64_t> memory_limit_bytes;
};

/// The exit status of a worker whose parent had already died when confine()
/// checked (nobody is left to report to).
inline constexpr int parent_gone_exit_status = 75;

/**
 * Confines the calling process, in this order (each step's order matters):
 * 1. PR_SET_NO_NEW_PRIVS: no exec can grant privileges again (and seccomp
 *    may then be installed without CAP_SYS_ADMIN).
 * 2. Closes every descriptor but 0, 1, 2 and `keep_fds` with close_range(2),
 *    whatever their FD_CLOEXEC flag: a descriptor the host leaked without
 *    CLOEXEC is closed too, and the kept ones keep their flags.
 * 3. The memory limit, as RLIMIT_DATA (soft and hard, so it cannot be
 *    raised again): the process's data size now (VmData) plus
 *    `memory_limit_bytes`. RLIMIT_DATA rather than RLIMIT_AS because
 *    AddressSanitizer reserves terabytes of address space for its shadow,
 *    which any RLIMIT_AS a worker could live with would forbid; and relative
 *    to VmData because that shadow is private writable memory too, already
 *    counted in VmData. So the limit is a budget for what the plugin maps
 *    from now on, and behaves the same in every build. A mapping past it
 *    fails with ENOMEM (malloc returns NULL, operator new throws); it does not
 *    count resident memory, which is what a cgroup's memory.max is for
 *    (worker_cgroup.hpp).
 * 4. Drops privileges when `uid` or `gid` is set: setgroups (none, as root
 *    only), setresgid, setresuid; then checks that the real, effective and
 *    saved ids are the new ones and that setuid(0)/setgid(0) fail.
 * 5. PR_SET_PDEATHSIG(SIGKILL), after step 4 because the kernel clears the
 *    death signal when the effective ids change; then checks that the parent
 *    is still `parent` (exits with parent_gone_exit_status if not).
 *
 * The death signal follows the parent THREAD: the host must fork the worker
 * from a thread that lives as long as the host (its main or event-loop
 * thread), or the worker is killed when that thread ends.
 *
 * Throws std::system_error (errno, and a message naming the step, e.g.
 * "confine: setresuid(1001)") or std::invalid_argument (a keep_fds entry
 * that is not open). On a throw the process is partly confined: exit.
 */
void confine(const ProcessConfinement &confinement);

} // namespace drpc::host::worker
