// SPDX-License-Identifier: Apache-2.0
/// @file worker_args.hpp
/// The command line of a worker process (drpc-host in its hidden worker
/// mode) and the descriptors it inherits at fixed numbers: written by the
/// host's launcher, read by the worker, so the two cannot disagree.
#pragma once

#include <drpc/lifecycle/isolation_config.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <sys/types.h>
#include <vector>

namespace drpc::host::isolation {

/// argv[1] of a worker: what makes drpc-host run as one.
inline constexpr std::string_view worker_mode_flag = "--drpc-worker";

/// The descriptors a worker inherits, at these numbers.
inline constexpr int worker_plugin_fd = 3; ///< the host's private copy, read-only
inline constexpr int worker_listen_fd = 4; ///< the listening socket to serve
inline constexpr int worker_status_fd = 5; ///< "ready\n", or "error <why>\n", then closed
inline constexpr int worker_config_fd = 6; ///< modules.<name> as JSON, to read to its end
inline constexpr int worker_region_fd = 7; ///< the SharedRegion's memfd, mapped then closed

/// The largest module config a worker reads.
inline constexpr size_t max_worker_config_bytes = size_t{1} << 20;

struct WorkerArgs {
	std::string name;             ///< the module's name, for log lines
	std::filesystem::path source; ///< the plugin file, for log lines
	uint64_t generation = 0;
	pid_t parent = 0;   ///< the host, which the worker must die with
	uid_t host_uid = 0; ///< the only peer the worker answers
	std::optional<uid_t> uid;
	std::optional<gid_t> gid;
	std::optional<uint64_t> memory_limit_bytes;
	bool sandbox = false;
	/// The longest its call ring's reader spins before it sleeps (spin_budget.hpp).
	std::chrono::microseconds ring_spin{IsolationSettings::default_ring_spin_us};
	int log_level = 1; ///< drpc::log::Level as a number

	/// argv[1...] (worker_mode_flag first).
	[[nodiscard]] std::vector<std::string> to_argv() const;
	/// From argv[2...] (after worker_mode_flag). Throws std::invalid_argument
	/// naming the argument it cannot read.
	[[nodiscard]] static WorkerArgs parse(std::span<const char *const> args);
};

} // namespace drpc::host::isolation
