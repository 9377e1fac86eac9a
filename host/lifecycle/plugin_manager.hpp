// SPDX-License-Identifier: Apache-2.0
/// @file plugin_manager.hpp
/// Loading, reloading and unloading plugins while the host serves: the one
/// mechanism behind the directory watcher, SIGHUP rescans and the admin
/// module. Operations are serialized; each is safe from any thread.
///
/// The reload protocol: the new build is loaded beside the old one (its own
/// runtime copy), its info record and descriptor are checked (ABI; module
/// ID unchanged, or changed to a free one), then the registry entry is
/// swapped atomically. Calls that arrive after the swap go to the new build,
/// calls in flight finish on the old one, and the old instance is destroyed
/// and its library unloaded only once its last call has returned. A build
/// that fails to load, fails a check or throws in create leaves the old one
/// serving, and the error is kept for listing. A module whose builds both
/// hand state over keeps its state: calls to it wait while the old instance
/// drains, exports its state and the new one imports it.
#pragma once

#include "plugin_file.hpp"
#include "plugin_loader.hpp"
#include "plugin_table.hpp"

#include <drpc/lifecycle/module_record.hpp>

#include <drpc/module_registry.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace drpc::host {

class PluginManager {
public:
	/// `loader`, `directory` and `registry` must outlive the manager.
	/// `drain_timeout` bounds how long a reload or unload waits for calls
	/// in flight on the old build.
	PluginManager(PluginLoader &loader, const PluginDirectory &directory, drpc::ModuleRegistry &registry,
	              std::chrono::milliseconds drain_timeout);
	/// Unloads every plugin; the server must have stopped serving them.
	~PluginManager();
	PluginManager(const PluginManager &) = delete;
	PluginManager &operator=(const PluginManager &) = delete;

	/// Loads every plugin of the directory, in sorted order (at start).
	void load_all();

	/// Loads `path` (a file name in the plugins directory, or a path to a
	/// file directly in it). A file that already serves a module is
	/// reloaded.
	ModuleOperation load(std::string_view path);
	/// Unloads the plugin module `id`, after its calls in flight.
	ModuleOperation unload(int32_t id);
	/// Loads the source file of module `id` again and swaps it in.
	ModuleOperation reload(int32_t id);

	/// The watcher's verdicts on one file.
	void file_changed(std::string_view name);
	void file_removed(std::string_view name);

	/// SIGHUP: loads new files, reloads changed ones (inode, size or mtime),
	/// unloads modules whose file is gone.
	void rescan();

	/// Finishes unloading retired builds whose last call has returned since
	/// (a drain that outlived drain_timeout). Cheap when there are none.
	void collect();
	/// Whether collect() has work waiting.
	[[nodiscard]] bool has_draining() const;

	/// Serving modules by ID, then draining and pinned builds.
	[[nodiscard]] std::vector<ModuleRecord> list() const;
	/// Files that were refused and serve nothing (state failed), newest last.
	[[nodiscard]] std::vector<ModuleRecord> failures() const;
	/// Serving plugin modules.
	[[nodiscard]] size_t size() const;
	/// Stops every isolated module's worker (see HostedModule::stop_worker);
	/// how many. For the host's shutdown past its drain deadline.
	size_t stop_workers() noexcept;
	/// See HostedModule::release_idle_memory.
	void release_idle_memory() noexcept;

private:
	ModuleOperation load_file(const std::string &name);                      // with mutex_ held
	ModuleOperation unload_locked(int32_t id);                               // with mutex_ held
	void retire(drpc::ModuleRegistry::Retired retired, ModuleRecord record); // with mutex_ held

	PluginLoader &loader_;
	const PluginDirectory &directory_;
	const std::chrono::milliseconds drain_timeout_;

	mutable std::mutex mutex_;
	PluginTable table_; // guarded by mutex_
};

} // namespace drpc::host
