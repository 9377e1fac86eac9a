// SPDX-License-Identifier: Apache-2.0
/// @file drpc/lifecycle/isolation_config.hpp
/// Where each module's code runs (plugins.isolation, modules.<name>.isolation)
/// and the limits of a module run in a worker process of its own.
#pragma once

#include <drpc/lifecycle/module_record.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace drpc::host {

/// modules.<name>: how its worker runs (isolation "process" only).
struct IsolationSettings {
	/// Unset: plugins.isolation.
	std::optional<Isolation> isolation;
	/// A call running longer is answered FAILURE and its worker killed and
	/// restarted (zero: no limit).
	uint64_t call_timeout_ms = 0;
	/// What the plugin may map beyond what the worker holds once confined
	/// (RLIMIT_DATA, see host/worker/confinement.hpp).
	std::optional<uint64_t> memory_limit_bytes;
	/// Run the worker as this user and group (the host must be root).
	std::optional<uid_t> uid;
	std::optional<gid_t> gid;
	/// Enter the seccomp + Landlock sandbox before the plugin is mapped.
	bool sandbox = false;
	/// The longest the readers of the worker's message rings (its own and
	/// the host's) look again before they sleep, in microseconds (0: they
	/// never spin). Unset: default_ring_spin_us. See host/isolation/spin_budget.hpp.
	std::optional<uint32_t> ring_spin_us;
	static constexpr uint32_t default_ring_spin_us = 100;
	static constexpr uint32_t max_ring_spin_us = 1000;
};

/// plugins.worker_cgroup: where a worker with memory_limit_bytes gets a
/// cgroup v2 of its own whose memory.max is that limit.
struct WorkerCgroupChoice {
	enum class Mode {
		/// In the host's own cgroup when it is delegated to it and the host
		/// is alone there (it then moves into a leaf "drpc-host"); otherwise
		/// RLIMIT_DATA only, said once in the log.
		automatic,
		/// RLIMIT_DATA only.
		off,
		/// Under `directory`, which must be usable: a worker start fails
		/// with the reason when it is not.
		directory,
	};
	Mode mode = Mode::automatic;
	std::filesystem::path directory;
};

/// The isolation of every module, by name.
struct IsolationConfig {
	/// plugins.isolation: for modules that do not say.
	Isolation default_isolation = Isolation::in_process;
	std::map<std::string, IsolationSettings, std::less<>> modules;
	/// The program a worker runs: drpc-host itself, in its worker mode.
	std::filesystem::path worker_executable = "/proc/self/exe";
	WorkerCgroupChoice worker_cgroup;

	/// The settings of module `name`, its isolation resolved.
	[[nodiscard]] IsolationSettings for_module(std::string_view name) const;
};

} // namespace drpc::host
