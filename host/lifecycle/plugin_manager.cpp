// SPDX-License-Identifier: Apache-2.0
// Loading, reloading and unloading plugins while the host serves.
#include "plugin_manager.hpp"

#include "plugin_info.hpp"
#include "plugin_names.hpp"
#include <drpc/lifecycle/memory_trim.hpp>
#include <drpc/lifecycle/reserved_ids.hpp>

#include <drpc/error.hpp>
#include <drpc/log.hpp>

#include <algorithm>
#include <dlfcn.h>
#include <map>
#include <set>

namespace drpc::host {
namespace {

constexpr std::string_view log_component = "plugins";

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

PluginManager::PluginManager(PluginLoader &loader, const PluginDirectory &directory, drpc::ModuleRegistry &registry,
                             std::chrono::milliseconds drain_timeout)
	: loader_(loader), directory_(directory), drain_timeout_(drain_timeout), table_(registry)
{
}

PluginManager::~PluginManager() = default;

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
	const std::optional<ModuleRecord> record = table_.record(id);
	if (!record)
		return {false, "reload: no plugin serves module " + format_module_id(id), std::nullopt};
	return load_file(record->source.filename().string());
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
	table_.forget_failure(source);
	// By ID, not by reference: unload_locked() must hold the last one.
	std::shared_ptr<HostedModule> module = table_.serving_from(source);
	if (!module)
		return;
	const int32_t id = module->id();
	module.reset();
	drpc::log::info(log_component, drpc::log::untrusted(source.string(), 1024) + " was removed");
	(void)unload_locked(id);
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
	std::map<std::filesystem::path, FileIdentity> loaded;
	for (const ModuleRecord &record : table_.serving_records()) {
		if (present.contains(record.source.filename().string()))
			loaded.emplace(record.source, record.file);
		else
			(void)unload_locked(record.id);
	}
	for (const std::string &name : names) {
		const auto source = directory_.path() / name;
		const auto found = loaded.find(source);
		if (found == loaded.end() || !(found->second == FileIdentity::of(source)))
			(void)load_file(name);
	}
}

ModuleOperation PluginManager::load_file(const std::string &name)
{
	const std::filesystem::path source = directory_.path() / name;
	std::shared_ptr<HostedModule> old = table_.serving_from(source);
	const FileIdentity file = FileIdentity::of(source);
	LoadResult result = loader_.load(directory_, name,
	                                 [&](const drpc_plugin_info &info) { return table_.admission(info, source); });
	if (!result.ok()) {
		const std::string error = source.string() + ": " + result.error;
		if (old) {
			table_.note_load_error(old->id(), result.error);
			drpc::log::error(log_component, "reload refused: " + drpc::log::untrusted(error, 1024) + "; " +
			                                        old->describe() + " keeps serving");
			return {false, error, table_.record(old->id())};
		}
		drpc::log::error(log_component, "refused " + drpc::log::untrusted(error, 1024));
		if (std::filesystem::exists(source))
			table_.note_failure(source, result.error);
		return {false, error, std::nullopt};
	}
	const std::shared_ptr<HostedModule> module = std::move(result.module);

	if (!old) {
		try {
			ModuleRecord record = table_.add(module, file);
			drpc::log::info(log_component, "loaded " + module->describe());
			return {true, {}, std::move(record)};
		} catch (const std::exception &e) {
			drpc::log::error(log_component,
			                 "refused " + drpc::log::untrusted(source.string(), 1024) + ": " + e.what());
			table_.note_failure(source, e.what());
			return {false, source.string() + ": " + e.what(), std::nullopt};
		}
	}

	const int32_t old_id = old->id();
	ModuleRecord old_record = *table_.record(old_id);
	const bool hand_over = old->has_state_handoff() && module->has_state_handoff() && module->id() == old_id;
	const drpc::ModuleRegistry::Handover handover = [](drpc::Module &from, drpc::Module &to) {
		const std::string state = static_cast<HostedModule &>(from).export_state();
		static_cast<HostedModule &>(to).import_state(
			std::span(reinterpret_cast<const uint8_t *>(state.data()), state.size()));
	};
	drpc::ModuleRegistry::Retired retired;
	try {
		retired = table_.replace(old_id, module, file, hand_over ? &handover : nullptr,
		                         std::chrono::steady_clock::now() + drain_timeout_);
	} catch (const std::exception &e) {
		table_.note_load_error(old_id, e.what());
		drpc::log::error(log_component, "reload of " + old->describe() + " failed: " + e.what() +
		                                        "; the old build keeps serving");
		return {false, source.string() + ": " + e.what(), table_.record(old_id)};
	}
	drpc::log::info(log_component, "reloaded " + module->describe() + " (was generation " +
	                                       std::to_string(old_record.generation) + ")" +
	                                       (hand_over ? ", state handed over" : ""));
	old.reset(); // retire() must hold the last reference to unload it
	retire(std::move(retired), std::move(old_record));
	return {true, {}, table_.record(module->id())};
}

ModuleOperation PluginManager::unload_locked(int32_t id)
{
	std::optional<ModuleRecord> record = table_.record(id);
	if (!record) {
		if (is_reserved_id(id))
			return {false, "unload: module " + format_module_id(id) + " is built into the host",
			        std::nullopt};
		return {false, "unload: no plugin serves module " + format_module_id(id), std::nullopt};
	}
	drpc::ModuleRegistry::Retired retired;
	try {
		retired = table_.remove(id);
	} catch (const std::exception &e) {
		return {false, std::string("unload: ") + e.what(), record};
	}
	drpc::log::info(log_component,
	                "unloading " + std::static_pointer_cast<HostedModule>(retired.module)->describe());
	retire(std::move(retired), *record);
	record->state = ModuleState::unloaded;
	return {true, {}, std::move(record)};
}

void PluginManager::retire(drpc::ModuleRegistry::Retired retired, ModuleRecord record)
{
	if (!retired.wait_drained(std::chrono::steady_clock::now() + drain_timeout_)) {
		drpc::log::warn(log_component, "module " + format_module_id(record.id) + " generation " +
		                                       std::to_string(record.generation) + ": " +
		                                       std::to_string(retired.calls_in_flight()) +
		                                       " call(s) still running after the drain timeout (" +
		                                       std::to_string(drain_timeout_.count()) +
		                                       " ms); it stays mapped until they return");
		table_.add_draining(std::move(retired), std::move(record));
		return;
	}
	auto module = std::static_pointer_cast<HostedModule>(retired.module);
	const std::filesystem::path copy = module->mapped_copy();
	retired.module.reset();
	module.reset(); // the last reference: destroy(), then the library is unloaded
	trim_memory("unloading a plugin build");
	if (!copy.empty() && still_mapped(copy))
		table_.add_pinned(copy, std::move(record));
}

void PluginManager::collect()
{
	const std::lock_guard lock(mutex_);
	for (auto &[retired, record] : table_.take_drained()) {
		drpc::log::info(log_component, "module " + format_module_id(record.id) + " generation " +
		                                       std::to_string(record.generation) + " has drained");
		retire(std::move(retired), std::move(record));
	}
	// A pinned build may have been released since (by a later dlclose).
	table_.release_pinned(still_mapped);
}

bool PluginManager::has_draining() const
{
	const std::lock_guard lock(mutex_);
	return table_.has_draining();
}

std::vector<ModuleRecord> PluginManager::list() const
{
	const std::lock_guard lock(mutex_);
	return table_.list();
}

std::vector<ModuleRecord> PluginManager::failures() const
{
	const std::lock_guard lock(mutex_);
	return table_.failed();
}

size_t PluginManager::size() const
{
	const std::lock_guard lock(mutex_);
	return table_.serving_count();
}

size_t PluginManager::stop_workers() noexcept
{
	const std::lock_guard lock(mutex_);
	return table_.stop_workers();
}

void PluginManager::release_idle_memory() noexcept
{
	const std::lock_guard lock(mutex_);
	table_.release_idle_memory();
}

} // namespace drpc::host
