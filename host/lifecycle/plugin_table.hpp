// SPDX-License-Identifier: Apache-2.0
/// @file plugin_table.hpp
/// The one table of the host's plugin modules: per module everything true
/// of it (file, generation, state, counters, errors), and the registry kept
/// in step with it by the table alone. Not thread-safe: the plugin manager
/// serializes every use.
#pragma once

#include "hosted_module.hpp"

#include <drpc/lifecycle/module_record.hpp>

#include <drpc/module_registry.hpp>
#include <drpc/plugin.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace drpc::host {

class PluginTable {
public:
	/// `registry` must outlive the table.
	explicit PluginTable(drpc::ModuleRegistry &registry) noexcept : registry_(registry) {}
	/// Takes every module out of the registry and destroys it, then unmaps
	/// it: no call may run any more.
	~PluginTable();
	PluginTable(const PluginTable &) = delete;
	PluginTable &operator=(const PluginTable &) = delete;

	/// Why a module described by `info`, from `source`, may not serve beside
	/// the others (one module per ID, one per name, none in the reserved
	/// range), or nothing. What an earlier generation of the same file holds
	/// does not count against it: that is a reload.
	[[nodiscard]] std::optional<std::string> admission(const drpc_plugin_info &info,
	                                                   const std::filesystem::path &source) const;

	/// The serving module `id`, or null.
	[[nodiscard]] std::shared_ptr<HostedModule> serving(int32_t id) const noexcept;
	/// The serving module loaded from `source`, or null.
	[[nodiscard]] std::shared_ptr<HostedModule> serving_from(const std::filesystem::path &source) const noexcept;
	/// The record of serving module `id`, counters read now; nothing when none.
	[[nodiscard]] std::optional<ModuleRecord> record(int32_t id) const;
	/// The serving modules' records by module ID (counters not read).
	[[nodiscard]] std::vector<ModuleRecord> serving_records() const;
	[[nodiscard]] size_t serving_count() const noexcept;
	/// HostedModule::stop_worker() of every serving and draining module; how
	/// many had a worker.
	size_t stop_workers() noexcept;
	/// HostedModule::release_idle_memory() of every serving module.
	void release_idle_memory() noexcept;

	/// Registers a module new to the table and records it as serving; a
	/// failure noted for its file is forgotten. Throws DuplicateModuleError.
	ModuleRecord add(std::shared_ptr<HostedModule> module, FileIdentity file);
	/// Serves `module` in place of module `old_id` (one atomic swap in the
	/// registry; with `handover`, state handed over as
	/// ModuleRegistry::replace_handing_over does) and records it. Returns
	/// the old build, to be retired. Throws what the registry throws; then
	/// nothing changed.
	drpc::ModuleRegistry::Retired replace(int32_t old_id, std::shared_ptr<HostedModule> module, FileIdentity file,
	                                      const drpc::ModuleRegistry::Handover *handover,
	                                      std::chrono::steady_clock::time_point deadline);
	/// Takes module `id` out of the registry and the table. Throws drpc::Error
	/// when the registry has no such module.
	drpc::ModuleRegistry::Retired remove(int32_t id);

	/// Notes why the newest (re)load of serving module `id` failed, or clears it.
	void note_load_error(int32_t id, std::string error);
	/// Records that `source` was refused and serves nothing.
	void note_failure(const std::filesystem::path &source, std::string error);
	void forget_failure(const std::filesystem::path &source);

	/// A retired build whose calls outlived the drain deadline.
	void add_draining(drpc::ModuleRegistry::Retired retired, ModuleRecord record);
	/// Takes out the draining builds whose last call has returned.
	[[nodiscard]] std::vector<std::pair<drpc::ModuleRegistry::Retired, ModuleRecord>> take_drained();
	[[nodiscard]] bool has_draining() const noexcept { return !draining_.empty(); }
	/// A build unloaded while the dynamic loader kept `copy` mapped.
	void add_pinned(std::filesystem::path copy, ModuleRecord record);
	/// Forgets the pinned builds `still_mapped` says are gone.
	void release_pinned(bool (*still_mapped)(const std::filesystem::path &));

	/// Serving modules by ID, then draining and pinned builds.
	[[nodiscard]] std::vector<ModuleRecord> list() const;
	/// Files that were refused and serve nothing, oldest first.
	[[nodiscard]] std::vector<ModuleRecord> failed() const;

private:
	struct Serving {
		std::shared_ptr<HostedModule> module;
		std::shared_ptr<const drpc::ModuleCounters> counters;
		ModuleRecord record; // counters filled in when read
	};
	struct Draining {
		drpc::ModuleRegistry::Retired retired;
		ModuleRecord record;
	};
	struct Pinned {
		std::filesystem::path copy;
		ModuleRecord record;
	};

	[[nodiscard]] static ModuleRecord record_of(const HostedModule &module, FileIdentity file);
	[[nodiscard]] static ModuleRecord with_counters(const Serving &serving);
	Serving *find(int32_t id) noexcept;
	[[nodiscard]] const Serving *find(int32_t id) const noexcept;

	drpc::ModuleRegistry &registry_;
	std::vector<Serving> serving_; // by ascending module ID
	std::list<Draining> draining_;
	std::vector<Pinned> pinned_;
	std::vector<ModuleRecord> failed_; // oldest first
};

} // namespace drpc::host
