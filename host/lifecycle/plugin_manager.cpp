// SPDX-License-Identifier: Apache-2.0
// Loading, reloading and unloading plugins while the host serves.
#include "plugin_manager.hpp"

#include "memory_trim.hpp"
#include "plugin_info.hpp"
#include "plugin_names.hpp"
#include "reserved_ids.hpp"

#include <drpc/error.hpp>
#include <drpc/log.hpp>

#include <algorithm>
#include <dlfcn.h>
#include <set>
#include <sys/stat.h>

namespace drpc::host {
namespace {

constexpr std::string_view log_component = "plugins";

/// What tells a changed file from the one that was loaded.
struct FileIdentity {
	dev_t device = 0;
	ino_t inode = 0;
	off_t size = 0;
	timespec mtime{};

	bool operator==(const FileIdentity &other) const noexcept
	{
		return device == other.device && inode == other.inode && size == other.size &&
		       mtime.tv_sec == other.mtime.tv_sec && mtime.tv_nsec == other.mtime.tv_nsec;
	}
};

FileIdentity identity_of(const std::filesystem::path &path)
{
	struct stat info {};
	if (::stat(path.c_str(), &info) != 0)
		return {};
	return {info.st_dev, info.st_ino, info.st_size, info.st_mtim};
}

/// Whether files in the directory may still be acted on; says so loudly,
/// but rate-limited, since every event in a hostile directory asks again.
bool directory_trusted(const PluginDirectory &directory)
{
	static drpc::log::RateLimit limit("plugins directory untrusted");
	const auto why = directory.distrusted_because();
	if (why)
		drpc::log::error(limit, log_component, *why);
	return !why;
}

/// Whether the dynamic loader still has `path` mapped.
bool still_mapped(const std::filesystem::path &path)
{
	void *handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD);
	if (handle == nullptr)
		return false;
	::dlclose(handle); // balances the reference NOLOAD just took
	return true;
}

} // namespace

struct PluginManager::Served {
	std::shared_ptr<PluginModule> module;
	uint64_t generation = 0;
	std::chrono::system_clock::time_point loaded_since;
	FileIdentity file;
	std::string last_load_error;
};

struct PluginManager::Draining {
	drpc::ModuleRegistry::Retired retired;
	ModuleStatus status;
};

struct PluginManager::Pinned {
	std::filesystem::path runtime_copy;
	ModuleStatus status;
};

PluginManager::PluginManager(PluginLoader &loader, const PluginDirectory &directory, drpc::ModuleRegistry &registry,
                             std::chrono::milliseconds drain_timeout)
	: loader_(loader), directory_(directory), registry_(registry), drain_timeout_(drain_timeout), set_(loader)
{
}

PluginManager::~PluginManager()
{
	// The server is gone: no call can run. Destroy instances, then unmap.
	const std::lock_guard lock(mutex_);
	served_.clear();
	draining_.clear();
	while (!set_.modules().empty())
		(void)set_.take(set_.modules().front()->id());
}

void PluginManager::load_all()
{
	const std::lock_guard lock(mutex_);
	const std::vector<std::string> names = directory_.list();
	if (names.empty())
		drpc::log::warn(log_component, "no plugins (*.so) in " + directory_.path().string());
	for (const std::string &name : names)
		(void)load_file(name);
}

ModuleOperation PluginManager::load(std::string_view path)
{
	const std::filesystem::path given(path);
	std::string name = given.filename().string();
	if (name.empty() || name == "." || name == "..")
		return {false, "load: '" + std::string(path) + "' names no file", std::nullopt};
	if (given.has_parent_path()) {
		std::error_code error;
		const auto parent = std::filesystem::weakly_canonical(given.parent_path(), error);
		const auto plugins = std::filesystem::weakly_canonical(directory_.path(), error);
		if (parent != plugins)
			return {false,
			        "load " + given.string() + ": only files directly in the plugins directory " +
			                directory_.path().string() + " can be loaded (copy it there first)",
			        std::nullopt};
	}
	// One rule for the admin module and the directory scan.
	if (const auto why = why_not_a_plugin_name(name))
		return {false, "load " + given.string() + ": " + *why + " (a directory scan ignores it too)",
		        std::nullopt};
	const std::lock_guard lock(mutex_);
	return load_file(name);
}

ModuleOperation PluginManager::reload(int32_t id)
{
	const std::lock_guard lock(mutex_);
	const auto it = served_.find(id);
	if (it == served_.end())
		return {false, "reload: no plugin serves module " + format_module_id(id), std::nullopt};
	return load_file(it->second.module->source().filename().string());
}

ModuleOperation PluginManager::unload(int32_t id)
{
	const std::lock_guard lock(mutex_);
	return unload_locked(id);
}

void PluginManager::file_changed(std::string_view name)
{
	const std::lock_guard lock(mutex_);
	if (!directory_trusted(directory_))
		return;
	(void)load_file(std::string(name));
}

void PluginManager::file_removed(std::string_view name)
{
	const std::lock_guard lock(mutex_);
	if (!directory_trusted(directory_))
		return;
	const auto source = directory_.path() / name;
	std::erase_if(failures_, [&](const LoadFailureStatus &f) { return f.source == source; });
	for (const auto &[id, served] : served_) {
		if (served.module->source() == source) {
			drpc::log::info(log_component, drpc::log::untrusted(source.string(), 1024) + " was removed");
			(void)unload_locked(id);
			return;
		}
	}
}

void PluginManager::rescan()
{
	const std::lock_guard lock(mutex_);
	drpc::log::info(log_component, "rescanning " + directory_.path().string());
	std::vector<std::string> names;
	try {
		names = directory_.list();
	} catch (const std::exception &e) {
		drpc::log::error(log_component, std::string("rescan: ") + e.what());
		return;
	}
	const std::set<std::string> present(names.begin(), names.end());
	std::vector<int32_t> gone;
	for (const auto &[id, served] : served_) {
		if (!present.contains(served.module->source().filename().string()))
			gone.push_back(id);
	}
	for (int32_t id : gone)
		(void)unload_locked(id);
	for (const std::string &name : names) {
		const auto source = directory_.path() / name;
		const auto served = std::find_if(served_.begin(), served_.end(), [&](const auto &entry) {
			return entry.second.module->source() == source;
		});
		if (served == served_.end() || !(served->second.file == identity_of(source)))
			(void)load_file(name);
	}
}

ModuleOperation PluginManager::load_file(const std::string &name)
{
	const std::filesystem::path source = directory_.path() / name;
	std::shared_ptr<PluginModule> old = set_.find_source(source);
	const FileIdentity file = identity_of(source);
	LoadResult result = loader_.load(directory_, name,
	                                 [&](const drpc_plugin_info &info) { return set_.admission(info, source); });
	if (!result.ok()) {
		const std::string error = source.string() + ": " + result.error;
		if (old) {
			Served &served = served_.at(old->id());
			served.last_load_error = result.error;
			drpc::log::error(log_component, "reload refused: " + drpc::log::untrusted(error, 1024) + "; " +
			                                        old->describe() + " keeps serving");
			return {false, error, status_of(served)};
		}
		drpc::log::error(log_component, "refused " + drpc::log::untrusted(error, 1024));
		if (std::filesystem::exists(source))
			note_failure(source, result.error);
		return {false, error, std::nullopt};
	}

	const std::shared_ptr<PluginModule> module = result.module;
	const uint64_t generation = result.generation;
	Served fresh{module, generation, std::chrono::system_clock::now(), file, {}};

	if (!old) {
		try {
			registry_.add(module);
		} catch (const std::exception &e) {
			drpc::log::error(log_component,
			                 "refused " + drpc::log::untrusted(source.string(), 1024) + ": " + e.what());
			note_failure(source, e.what());
			return {false, source.string() + ": " + e.what(), std::nullopt};
		}
		set_.adopt(module);
		std::erase_if(failures_, [&](const LoadFailureStatus &f) { return f.source == source; });
		const int32_t id = module->id();
		served_[id] = std::move(fresh);
		drpc::log::info(log_component, "loaded " + module->describe());
		return {true, {}, status_of(served_.at(id))};
	}

	const int32_t old_id = old->id();
	Served &previous = served_.at(old_id);
	const ModuleStatus old_status = status_of(previous);
	drpc::ModuleRegistry::Retired retired;
	const bool hand_over = old->has_state_handoff() && module->has_state_handoff() && module->id() == old_id;
	try {
		if (hand_over) {
			retired = registry_.replace_handing_over(
				old_id, module,
				[](drpc::Module &from, drpc::Module &to) {
					const std::string state = static_cast<PluginModule &>(from).export_state();
					static_cast<PluginModule &>(to).import_state(std::span(
						reinterpret_cast<const uint8_t *>(state.data()), state.size()));
				},
				std::chrono::steady_clock::now() + drain_timeout_);
		} else {
			retired = registry_.replace(old_id, module);
		}
	} catch (const std::exception &e) {
		previous.last_load_error = e.what();
		drpc::log::error(log_component, "reload of " + old->describe() + " failed: " + e.what() +
		                                        "; the old build keeps serving");
		return {false, source.string() + ": " + e.what(), status_of(previous)};
	}
	(void)set_.take(old_id);
	set_.adopt(module);
	served_.erase(old_id);
	const int32_t id = module->id();
	served_[id] = std::move(fresh);
	drpc::log::info(log_component, "reloaded " + module->describe() + " (was generation " +
	                                       std::to_string(old_status.generation) + ")" +
	                                       (hand_over ? ", state handed over" : ""));
	old.reset(); // retire() must hold the last reference to unload it
	retire(std::move(retired), old_status);
	return {true, {}, status_of(served_.at(id))};
}

ModuleOperation PluginManager::unload_locked(int32_t id)
{
	const auto it = served_.find(id);
	if (it == served_.end()) {
		if (is_reserved_id(id))
			return {false, "unload: module " + format_module_id(id) + " is built into the host",
			        std::nullopt};
		return {false, "unload: no plugin serves module " + format_module_id(id), std::nullopt};
	}
	ModuleStatus status = status_of(it->second);
	drpc::ModuleRegistry::Retired retired;
	try {
		retired = registry_.remove(id);
	} catch (const std::exception &e) {
		return {false, std::string("unload: ") + e.what(), status};
	}
	drpc::log::info(log_component, "unloading " + it->second.module->describe());
	(void)set_.take(id);
	served_.erase(it);
	retire(std::move(retired), status);
	status.state = "unloaded";
	return {true, {}, status};
}

void PluginManager::retire(drpc::ModuleRegistry::Retired retired, const ModuleStatus &status)
{
	if (!retired.wait_drained(std::chrono::steady_clock::now() + drain_timeout_)) {
		drpc::log::warn(log_component, "module " + format_module_id(status.id) + " generation " +
		                                       std::to_string(status.generation) + ": " +
		                                       std::to_string(retired.calls_in_flight()) +
		                                       " call(s) still running after the drain timeout (" +
		                                       std::to_string(drain_timeout_.count()) +
		                                       " ms); it stays mapped until they return");
		ModuleStatus draining = status;
		draining.state = "draining";
		draining_.push_back({std::move(retired), std::move(draining)});
		return;
	}
	auto plugin = std::static_pointer_cast<PluginModule>(retired.module);
	const std::filesystem::path copy = plugin->runtime_copy();
	retired.module.reset();
	plugin.reset(); // the last reference: destroy(), then the library is unloaded
	trim_memory("unloading a plugin build");
	if (still_mapped(copy)) {
		ModuleStatus pinned = status;
		pinned.state = "pinned";
		pinned_.push_back({copy, std::move(pinned)});
	}
}

void PluginManager::collect()
{
	const std::lock_guard lock(mutex_);
	for (auto it = draining_.begin(); it != draining_.end();) {
		if (it->retired.calls_in_flight() != 0) {
			++it;
			continue;
		}
		drpc::log::info(log_component, "module " + format_module_id(it->status.id) + " generation " +
		                                       std::to_string(it->status.generation) + " has drained");
		ModuleStatus status = it->status;
		drpc::ModuleRegistry::Retired retired = std::move(it->retired);
		it = draining_.erase(it);
		retire(std::move(retired), status);
	}
	// A pinned build may have been released since (by a later dlclose).
	std::erase_if(pinned_, [](const Pinned &p) { return !still_mapped(p.runtime_copy); });
}

bool PluginManager::has_draining() const
{
	const std::lock_guard lock(mutex_);
	return !draining_.empty();
}

ModuleStatus PluginManager::status_of(const Served &served) const
{
	const PluginModule &module = *served.module;
	ModuleStatus status;
	status.id = module.id();
	status.name = module.name();
	status.version = module.version();
	status.source = module.source();
	status.generation = served.generation;
	status.loaded_since = served.loaded_since;
	status.last_load_error = served.last_load_error;
	for (const auto &listing : registry_.list()) {
		if (listing.module.get() == &module) {
			status.calls_served = listing.counters->calls.load();
			status.failures = listing.counters->failures.load();
		}
	}
	return status;
}

void PluginManager::note_failure(const std::filesystem::path &source, const std::string &error)
{
	std::erase_if(failures_, [&](const LoadFailureStatus &f) { return f.source == source; });
	failures_.push_back({source, error, std::chrono::system_clock::now()});
}

std::vector<ModuleStatus> PluginManager::list() const
{
	const std::lock_guard lock(mutex_);
	std::vector<ModuleStatus> statuses;
	for (const auto &[id, served] : served_)
		statuses.push_back(status_of(served));
	for (const Draining &draining : draining_)
		statuses.push_back(draining.status);
	for (const Pinned &pinned : pinned_)
		statuses.push_back(pinned.status);
	return statuses;
}

std::vector<LoadFailureStatus> PluginManager::failures() const
{
	const std::lock_guard lock(mutex_);
	return failures_;
}

size_t PluginManager::size() const
{
	const std::lock_guard lock(mutex_);
	return served_.size();
}

} // namespace drpc::host
