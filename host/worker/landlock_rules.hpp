// SPDX-License-Identifier: Apache-2.0
/// @file landlock_rules.hpp
/// The sandbox's Landlock rule set: what a worker may read and write in the
/// file system, at the Landlock ABI the running kernel has.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace drpc::host::worker {

/// The Landlock ABI version of the running kernel; 0 when it has none, with
/// `why` set ("not in this kernel", "disabled at boot").
[[nodiscard]] int landlock_abi(std::string *why = nullptr) noexcept;

/// Paths and what may be done under them.
struct LandlockPaths {
	std::vector<std::filesystem::path> read_only;           ///< must exist
	std::vector<std::filesystem::path> read_write;          ///< must exist
	std::vector<std::filesystem::path> optional_read_only;  ///< skipped when missing (the loader's)
	std::vector<std::filesystem::path> optional_read_write; ///< skipped when missing (/dev/null)
	/// Files already open, read-only: Landlock judges a reopen through
	/// /proc/self/fd/N by the file's real path. A file on an internal file
	/// system (a sealed memfd) has no path for Landlock to govern: it
	/// refuses a rule for it (EBADFD) and never restricts it, so none is added.
	std::vector<int> read_only_fds;
};

/// Restricts the calling thread (and the threads it starts later) to `paths`
/// with every file-system right the kernel's ABI knows handled. Needs
/// PR_SET_NO_NEW_PRIVS. Returns "Landlock ABI N: R read-only, W read-write
/// paths" or "Landlock unavailable: <why>" (nothing is applied then). Throws
/// std::invalid_argument for a required path that does not exist, and
/// std::system_error naming the step and the path.
std::string apply_landlock(const LandlockPaths &paths);

} // namespace drpc::host::worker
