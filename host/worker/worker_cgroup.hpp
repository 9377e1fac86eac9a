// SPDX-License-Identifier: Apache-2.0
/// @file worker_cgroup.hpp
/// The host's side of a worker's memory limit in cgroup v2: where the host
/// may create cgroups for its workers, and one worker's cgroup with its
/// memory.max.
#pragma once

#include <drpc/unique_fd.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace drpc::host::worker {

/// Where this process's cgroup information is read from; tests point these
/// at fakes.
struct CgroupSources {
	std::filesystem::path self_cgroup = "/proc/self/cgroup";  ///< the "0::/path" line
	std::filesystem::path mountinfo = "/proc/self/mountinfo"; ///< where cgroup2 is mounted
	pid_t self = 0;                                           ///< this process (0: getpid())
};

/// The cgroup worker cgroups are created in, or why there is none.
struct CgroupSupport {
	/// The host's own (delegated) cgroup directory; empty when unavailable.
	std::filesystem::path directory;
	/// "unavailable: <why>" when `directory` is empty, for the host's log.
	std::string unavailable;

	[[nodiscard]] explicit operator bool() const noexcept { return !directory.empty(); }
};

/**
 * Finds this process's cgroup v2 directory and makes it usable for worker
 * cgroups, or says why it cannot. Available only when the cgroup is writable
 * by this process (root, or delegated to its user, as systemd's Delegate=yes
 * does) and offers the memory controller.
 *
 * cgroup v2's no-internal-process rule: a cgroup that holds processes cannot
 * hand a controller to its children (cgroup.subtree_control refuses with
 * EBUSY), so the host cannot stay in the cgroup whose children get
 * memory.max. When the host is the only process there, it moves itself into
 * a leaf child "drpc-host" (reused across restarts) and then enables +memory
 * for the children; workers become its siblings, "worker-<name>". When other
 * processes share the host's cgroup (e.g. a login shell's scope), it leaves
 * them alone and reports unavailable: give the host a cgroup of its own
 * (a systemd unit with Delegate=yes).
 *
 * Never throws: every failure is an "unavailable: ..." naming the file and
 * the errno text. Moves this process when it succeeds.
 */
[[nodiscard]] CgroupSupport prepare_worker_cgroups(const CgroupSources &sources = {}) noexcept;

/**
 * Makes `directory`, a cgroup v2 directory given to the host
 * (plugins.worker_cgroup: e.g. one an administrator made and chowned to the
 * host's user), usable for worker cgroups, or says why it cannot: it must
 * offer the memory controller, be writable, and hold no process itself (the
 * no-internal-process rule). Enables +memory for its children. Never throws;
 * moves nobody.
 */
[[nodiscard]] CgroupSupport adopt_worker_cgroups(const std::filesystem::path &directory) noexcept;

/// One worker's cgroup, "worker-<name>" under CgroupSupport::directory.
/// Owns the directory: remove() (or the destructor) deletes it.
class WorkerCgroup {
public:
	/// Creates the cgroup (reusing one a crashed host left behind) and sets
	/// memory.max to `memory_max` bytes ("max" when empty). `name` is a plugin
	/// name, [A-Za-z0-9_.-]+. Throws std::system_error naming the file, or
	/// std::invalid_argument for a bad name or an unavailable `support`.
	WorkerCgroup(const CgroupSupport &support, std::string_view name, std::optional<uint64_t> memory_max);
	WorkerCgroup(const WorkerCgroup &) = delete;
	WorkerCgroup &operator=(const WorkerCgroup &) = delete;
	/// remove(), its error ignored (the directory stays behind, reused next time).
	~WorkerCgroup();

	/// Moves process `pid` (all its threads) into this cgroup.
	/// Throws std::system_error naming cgroup.procs.
	void add(pid_t pid) const;
	/// Its cgroup.procs, opened for writing, for a child that moves itself
	/// in between fork and exec (so it is in before it maps a plugin).
	/// Throws std::system_error naming the file.
	[[nodiscard]] drpc::UniqueFd open_procs() const;

	/// How many times the kernel's OOM killer killed a process of this cgroup
	/// for memory.max (memory.events "oom_kill"); 0 when unreadable. Lets the
	/// host say "killed for its memory limit" when a worker dies of SIGKILL.
	[[nodiscard]] uint64_t oom_kills() const noexcept;

	/// Deletes the cgroup. Its processes must have exited (the host kills and
	/// reaps the worker first); the kernel refuses a populated cgroup.
	/// Returns "" or what failed, naming the directory. Idempotent.
	std::string remove() noexcept;

	[[nodiscard]] const std::filesystem::path &directory() const noexcept { return directory_; }

private:
	std::filesystem::path directory_;
	bool removed_ = false;
};

} // namespace drpc::host::worker
