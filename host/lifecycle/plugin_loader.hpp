// SPDX-License-Identifier: Apache-2.0
/// @file plugin_loader.hpp
/// Loading one plugin file: copy, read and check its info record, ask the
/// caller whether the module may be admitted, and only then map the copy,
/// check its descriptor and create the instance.
#pragma once

#include "isolated_starter.hpp"
#include "plugin_file.hpp"
#include "plugin_module.hpp"
#include "runtime_dir.hpp"
#include <drpc/lifecycle/access_list.hpp>
#include <drpc/lifecycle/lifecycle.hpp>

#include <drpc/plugin.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>

namespace drpc::host {

/// What came of one attempt to load a file.
struct LoadResult {
	std::filesystem::path source;
	uint64_t generation = 0;
	/// The info record, once it was read and found well-formed.
	std::optional<drpc_plugin_info> info;
	/// The loaded module, or null when refused.
	std::shared_ptr<HostedModule> module;
	/// Why it was refused (no path: the caller adds it); empty on success.
	std::string error;

	[[nodiscard]] bool ok() const noexcept { return module != nullptr; }
};

/// What a load may admit beyond the plugin's own checks, decided per load
/// by whoever asks for it.
struct LoadPolicy {
	/// A plugin linked to the full protobuf runtime (libprotobuf.so) kills
	/// the process when a second build of it is mapped beside the first (a
	/// reload): refused in the host's process. A plugin that will run in a
	/// worker process of its own (issue 8) may be admitted.
	bool allow_full_protobuf = false;
};

class PluginLoader {
public:
	/// Says why a module may not be loaded, or nothing to admit it. Called
	/// with the checked info record before the library is mapped, so that a
	/// refused plugin's code (static constructors included) never runs.
	using Admission = std::function<std::optional<std::string>(const drpc_plugin_info &)>;

	/// `runtime` must outlive the loader and every module it loads.
	PluginLoader(RuntimeDir &runtime, ModuleConfigs module_configs);

	/// Loads `name` from `directory` as a new generation (the next one only
	/// if it succeeds; loads of one file are serialized by the caller, as
	/// PluginManager does). Never throws: a
	/// refusal comes back in LoadResult::error. Safe to call while earlier
	/// generations of the same file are loaded: each has its own copy.
	[[nodiscard]] LoadResult load(const PluginDirectory &directory, std::string_view name, const Admission &admit,
	                              const LoadPolicy &policy = {});

	/// The config object for module `name` as JSON text: "{}" when none.
	[[nodiscard]] std::string module_config(std::string_view name) const;
	[[nodiscard]] const ModuleConfigs &module_configs() const noexcept { return module_configs_; }

	/// The access lists given to modules loaded from now on, by module name.
	void set_access_lists(const AccessLists &lists);
	/// Which modules go to a worker process from now on, and what starts it.
	void set_isolation(IsolationConfig config, std::shared_ptr<IsolatedStarter> starter);

	/// More exported dynamic symbols than this earn a plugin a warning.
	static constexpr size_t max_quiet_exports = 8;

private:
	/// Warns, once per file name, of a plugin exporting many dynamic symbols.
	void warn_of_exports(std::string_view name, std::span<const uint8_t> image);
	/// The one step that makes a checked, admitted file the module serving
	/// it (here: mapped into this process); the rest of the lifecycle sees
	/// only HostedModule, so a module of another kind is made here too.
	std::shared_ptr<HostedModule> map_and_create(LoadResult &result, RuntimeFile copy);

	RuntimeDir &runtime_;
	ModuleConfigs module_configs_;
	IsolationConfig isolation_;
	std::shared_ptr<IsolatedStarter> isolated_starter_;
	std::map<std::string, std::shared_ptr<const AccessList>, std::less<>> access_;
	/// Per file name: attempts name the runtime copies (a name and an
	/// attempt are unique); generations count successful loads only (1 for
	/// a file's first), so a refused build does not use one up.
	struct Counts {
		uint64_t attempts = 0;
		uint64_t generations = 0;
	};
	std::mutex generations_mutex_;
	std::map<std::string, Counts, std::less<>> counts_;
	std::set<std::string, std::less<>> export_warned_; // guarded by generations_mutex_
};

/// In a worker process: loads the host's private copy of a plugin, open as
/// `fd`, with the same checks as PluginLoader (its info record read again
/// from the descriptor, mapped as /proc/self/fd/<fd>, the descriptor
/// checked, then create() with `config`). `source` and `generation` only
/// name it. Throws drpc::Error saying which check failed.
[[nodiscard]] std::shared_ptr<HostedModule> load_plugin_descriptor(int fd, const std::filesystem::path &source,
                                                                   uint64_t generation, const std::string &config,
                                                                   const LoadPolicy &policy);

} // namespace drpc::host
