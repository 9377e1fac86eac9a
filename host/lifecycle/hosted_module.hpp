// SPDX-License-Identifier: Apache-2.0
/// @file hosted_module.hpp
/// What the lifecycle needs of a module it serves from a plugin file,
/// whether the plugin runs in the host's process or in a worker of its own.
#pragma once

#include <drpc/lifecycle/module_record.hpp>
#include <drpc/module.hpp>
#include <drpc/plugin.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace drpc::host {

/// How the worker process of an isolated module has fared.
struct WorkerHealth {
	uint64_t crashes = 0;
	uint64_t restarts = 0;
	std::string last_cause;
	/// Crashed too often: answers FAILURE and starts nothing until reloaded.
	bool failed = false;
};

/// A module loaded from one plugin file, as one generation of that file.
class HostedModule : public drpc::Module {
public:
	[[nodiscard]] virtual std::string version() const = 0;
	/// The info record as read from the file (checked).
	[[nodiscard]] virtual const drpc_plugin_info &info() const noexcept = 0;
	/// The file in the plugins directory.
	[[nodiscard]] virtual const std::filesystem::path &source() const noexcept = 0;
	[[nodiscard]] virtual uint64_t generation() const noexcept = 0;
	[[nodiscard]] virtual Isolation isolation() const noexcept = 0;
	/// What the plugin says of itself (its describe(), read and checked at
	/// load); null when it does not describe itself.
	[[nodiscard]] virtual std::shared_ptr<const ModuleDescription> description() const noexcept = 0;
	/// The copy the dynamic loader mapped into this process, whose
	/// unmapping the lifecycle checks after the module is destroyed; empty
	/// when nothing of it is mapped here.
	[[nodiscard]] virtual std::filesystem::path mapped_copy() const = 0;

	/// Its worker's counters; nothing for a module in the host's process.
	[[nodiscard]] virtual std::optional<WorkerHealth> worker_health() const { return std::nullopt; }
	/// Stops its worker now (SIGTERM, SIGKILL after a grace), so that calls
	/// still running in it are answered FAILURE at once; false for a module
	/// in the host's process, whose stuck call nothing can cut short. For
	/// the host's shutdown, once its drain deadline has passed.
	virtual bool stop_worker() noexcept { return false; }
	/// Gives back memory it keeps for speed while busy (an isolated
	/// module's shared region); for the host's quiet moments.
	virtual void release_idle_memory() noexcept {}

	/// Whether the plugin hands its state over across a reload.
	[[nodiscard]] virtual bool has_state_handoff() const noexcept = 0;
	/// The instance's state, for import_state() of the next generation.
	/// Only while no call runs. Throws drpc::Error with the plugin's reason.
	[[nodiscard]] virtual std::string export_state() = 0;
	/// Loads state exported by an earlier generation; before the first call.
	/// Throws drpc::Error with the plugin's reason.
	virtual void import_state(std::span<const uint8_t> state) = 0;

	/// "module 1000 (echo 1.0.0) from /plugins/echo.so, generation 3"
	[[nodiscard]] std::string describe() const;
};

} // namespace drpc::host
