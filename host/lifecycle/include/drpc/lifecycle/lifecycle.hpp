// SPDX-License-Identifier: Apache-2.0
/// @file drpc/lifecycle/lifecycle.hpp
/// The plugin lifecycle as one object: the plugins directory, the runtime
/// copies, the loader, the plugin table and its manager, and the directory
/// watcher, serving into a drpc::ModuleRegistry. What the host shell, the
/// admin module and the benchmarks use; the rest of the library is private.
#pragma once

#include <drpc/lifecycle/access_list.hpp>
#include <drpc/lifecycle/isolation_config.hpp>
#include <drpc/lifecycle/module_record.hpp>
#include <drpc/module_registry.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace drpc::host {

class IsolatedStarter;

/// Module config objects as JSON text, by module name.
using ModuleConfigs = std::map<std::string, std::string, std::less<>>;

/// Plugin files larger than this are refused rather than copied, unless
/// plugins.max_file_bytes says otherwise.
inline constexpr uint64_t max_plugin_file_bytes = uint64_t{64} << 20;

struct LifecycleOptions {
	std::filesystem::path plugins_dir;
	/// Where the runtime copies go; empty: a fresh directory (RuntimeDir).
	std::filesystem::path runtime_dir{};
	/// Directory and files owned by the host's user or root, closed to others.
	bool strict_permissions = true;
	uint64_t max_file_bytes = max_plugin_file_bytes;
	/// Whether to follow the plugins directory with inotify.
	bool watch = true;
	/// How long a reload or unload waits for calls in flight on the old build.
	std::chrono::milliseconds drain_timeout{5000};
	ModuleConfigs module_configs{};
	/// modules.<name>.allow, given to the modules loaded.
	AccessLists access{};
	/// Which modules run in a worker process, and its limits.
	IsolationConfig isolation{};
	/// What starts those workers (host/isolation); without one, a module
	/// configured for isolation "process" is refused.
	std::shared_ptr<IsolatedStarter> isolated_starter{};
};

class Lifecycle {
public:
	/// Makes the runtime directory, opens the plugins directory and starts
	/// watching it (before any scan, so that no file slips in between); loads
	/// nothing yet. `registry` must outlive the lifecycle. Throws drpc::Error
	/// naming the directory that cannot be used.
	Lifecycle(LifecycleOptions options, drpc::ModuleRegistry &registry);
	/// Takes every plugin out of the registry and unloads it (no call may
	/// run on them any more: the server has shut down), then removes the
	/// runtime directory.
	~Lifecycle();
	Lifecycle(const Lifecycle &) = delete;
	Lifecycle &operator=(const Lifecycle &) = delete;

	/// Loads every plugin of the directory, in sorted order.
	void load_all();
	/// Loads `path` (a file name in the plugins directory, or a path to a
	/// file directly in it); a file already serving is reloaded.
	ModuleOperation load(std::string_view path);
	/// Unloads plugin module `id`, after its calls in flight.
	ModuleOperation unload(int32_t id);
	/// Loads the source file of module `id` again and swaps it in.
	ModuleOperation reload(int32_t id);
	/// Loads new files, reloads changed ones, unloads those gone (SIGHUP).
	void rescan();

	/// Serving modules by ID, then draining and pinned builds.
	[[nodiscard]] std::vector<ModuleRecord> list() const;
	/// Files that were refused and serve nothing, newest last.
	[[nodiscard]] std::vector<ModuleRecord> failures() const;
	/// Serving plugin modules.
	[[nodiscard]] size_t size() const;
	/// Stops the worker of every isolated module now, so that calls stuck in
	/// one are answered FAILURE; how many were stopped. For a shutdown whose
	/// drain deadline has passed: calls stuck in the host itself stay.
	size_t stop_workers() noexcept;
	/// Gives back what modules keep for speed while busy (isolated modules'
	/// shared regions): for the host's quiet moments, with malloc_trim.
	void release_idle_memory() noexcept;

	/// The watcher's descriptor to poll for POLLIN; -1 when not watching.
	[[nodiscard]] int watch_fd() const noexcept;
	/// How long until handle_events() has work without a poll waking it: a
	/// watched file settling, or a drain to finish; nothing when neither.
	[[nodiscard]] std::optional<std::chrono::milliseconds> next_due() const;
	/// Reads the watcher's events when `watch_readable`, acts on the files
	/// that have settled and finishes drains whose calls have returned.
	/// Returns whether a file event was acted on.
	bool handle_events(bool watch_readable);

	[[nodiscard]] const std::filesystem::path &plugins_dir() const noexcept;
	[[nodiscard]] const std::filesystem::path &runtime_dir() const noexcept;

private:
	struct Parts;
	std::unique_ptr<Parts> parts_;
};

} // namespace drpc::host
