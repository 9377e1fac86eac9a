// SPDX-License-Identifier: Apache-2.0
/// @file host_probe.hpp
/// What a server process holds, read from /proc/<pid>: resident and peak
/// memory, threads, open descriptors; and which process serves a socket.
#pragma once

#include <cstddef>
#include <filesystem>
#include <sys/types.h>

namespace drpc::bench {

struct ProcessUsage {
	size_t rss_bytes = 0;  ///< VmRSS
	size_t peak_bytes = 0; ///< VmHWM
	size_t threads = 0;
	size_t fds = 0;
};

/// Throws std::runtime_error naming /proc/<pid> when it cannot be read.
[[nodiscard]] ProcessUsage process_usage(pid_t pid);

/// The pid of the server listening at `socket` (SO_PEERCRED of a throwaway
/// connection). Throws std::runtime_error.
[[nodiscard]] pid_t server_pid(const std::filesystem::path &socket);

/// Raises this process's soft RLIMIT_NOFILE to the hard limit; returns it.
size_t raise_own_fd_limit() noexcept;

} // namespace drpc::bench
