// SPDX-License-Identifier: Apache-2.0
/// @file drpc/lifecycle/module_record.hpp
/// What the plugin lifecycle says of each module: its row in the plugin
/// table, and the outcome of an operation on it.
#pragma once

#include <drpc/lifecycle/module_description.hpp>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace drpc::host {

/// `1000` for ordinary IDs, `0x7FFF0000` for those at the top of the range,
/// where hexadecimal is how they are documented.
[[nodiscard]] std::string format_module_id(int32_t id);

/// Where a plugin's code runs. (module_record.cpp names them in this order.)
enum class Isolation {
	in_process, ///< mapped into the host's own process
	process,    ///< in a worker process of its own
};

/// "in-process" or "process", as listings show it.
[[nodiscard]] std::string_view isolation_name(Isolation isolation) noexcept;

/// Where a module is in its life. (module_record.cpp names them in this order.)
enum class ModuleState {
	serving,  ///< registered: calls reach it
	draining, ///< retired; calls still running past the drain deadline
	pinned,   ///< unloaded, but the dynamic loader kept its copy mapped
	failed,   ///< its file was refused and serves nothing
	unloaded, ///< gone (only in the answer to an unload)
	builtin,  ///< built into the host (the admin module)
};

/// "serving", "draining", ...: the one place states become text.
[[nodiscard]] std::string_view state_name(ModuleState state) noexcept;

/// What tells a changed file from the one that was loaded.
struct FileIdentity {
	dev_t device = 0;
	ino_t inode = 0;
	off_t size = 0;
	timespec mtime{};

	/// The identity of `path` now; all zero when it cannot be read.
	[[nodiscard]] static FileIdentity of(const std::filesystem::path &path) noexcept;
	[[nodiscard]] bool operator==(const FileIdentity &other) const noexcept;
};

/// One row of the table, as listings show it.
struct ModuleRecord {
	int32_t id = 0;
	std::string name;
	std::string version;
	std::filesystem::path source; ///< the file in the plugins directory
	FileIdentity file;            ///< of `source` when it was loaded
	uint64_t generation = 0;      ///< 1 for a file's first load, +1 per later successful one
	ModuleState state = ModuleState::serving;
	/// When it began serving; for a failed file, when it was refused.
	std::chrono::system_clock::time_point loaded_since;
	uint64_t calls_served = 0;
	uint64_t failures = 0;       ///< calls answered with a status other than SUCCESS
	std::string last_load_error; ///< why the newest attempt to (re)load it failed
	Isolation isolation = Isolation::in_process;
	uint64_t crashes = 0;   ///< of its worker process (isolation "process")
	uint64_t restarts = 0;  ///< of its worker process
	std::string last_cause; ///< why its worker last ended
	/// What the module says of itself; null when it does not describe
	/// itself. Shared, not copied: the descriptor set may be 1 MiB.
	std::shared_ptr<const ModuleDescription> description;
};

/// The outcome of load(), unload() and reload().
struct ModuleOperation {
	bool ok = false;
	std::string error;                  ///< why not, when !ok
	std::optional<ModuleRecord> module; ///< the module as it is afterwards
};

} // namespace drpc::host
