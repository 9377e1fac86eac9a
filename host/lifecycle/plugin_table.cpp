// SPDX-License-Identifier: Apache-2.0
// The table of plugin modules and the registry changes that go with each row change.
#include "plugin_table.hpp"

#include "plugin_info.hpp"
#include <drpc/lifecycle/reserved_ids.hpp>

#include <algorithm>

namespace drpc::host {

PluginTable::~PluginTable()
{
	// No call can run any more (the server has shut down). Out of the
	// registry, each module's last reference goes here: its instance is
	// destroyed, then its code unmapped.
	for (const Serving &serving : serving_) {
		try {
			(void)registry_.remove(serving.record.id);
		} catch (const std::exception &) {
			// Not registered: nothing to take out.
		}
	}
	serving_.clear();
	draining_.clear();
}

std::optional<std::string> PluginTable::admission(const drpc_plugin_info &info,
                                                  const std::filesystem::path &source) const
{
	const std::string id = format_module_id(info.module_id);
	if (is_reserved_id(info.module_id))
		return "module ID " + id + " is in the range " + format_module_id(reserved_id_first) + ".." +
		       format_module_id(reserved_id_last) + " reserved for the host's built-in modules";
	for (const Serving &serving : serving_) {
		const HostedModule &module = *serving.module;
		if (module.source() == source)
			continue;
		if (module.id() == info.module_id)
			return "module ID " + id + " is already served by " + module.source().string() + " (" +
			       module.name() + ")";
		// Module configs are found by name: two modules of one name would share one.
		if (module.name() == info.name)
			return "module name " + std::string(info.name) + " is already used by " +
			       module.source().string() + " (module " + format_module_id(module.id()) + ")";
	}
	return std::nullopt;
}

PluginTable::Serving *PluginTable::find(int32_t id) noexcept
{
	const auto found = std::lower_bound(serving_.begin(), serving_.end(), id,
	                                    [](const Serving &s, int32_t key) { return s.record.id < key; });
	return found != serving_.end() && found->record.id == id ? &*found : nullptr;
}

const PluginTable::Serving *PluginTable::find(int32_t id) const noexcept
{
	return const_cast<PluginTable *>(this)->find(id);
}

std::shared_ptr<HostedModule> PluginTable::serving(int32_t id) const noexcept
{
	const Serving *found = find(id);
	return found != nullptr ? found->module : nullptr;
}

std::shared_ptr<HostedModule> PluginTable::serving_from(const std::filesystem::path &source) const noexcept
{
	const auto found = std::find_if(serving_.begin(), serving_.end(),
	                                [&](const Serving &s) { return s.record.source == source; });
	return found != serving_.end() ? found->module : nullptr;
}

std::optional<ModuleRecord> PluginTable::record(int32_t id) const
{
	const Serving *found = find(id);
	if (found == nullptr)
		return std::nullopt;
	return with_counters(*found);
}

std::vector<ModuleRecord> PluginTable::serving_records() const
{
	std::vector<ModuleRecord> records;
	records.reserve(serving_.size());
	for (const Serving &serving : serving_)
		records.push_back(serving.record);
	return records;
}

size_t PluginTable::serving_count() const noexcept { return serving_.size(); }

size_t PluginTable::stop_workers() noexcept
{
	size_t stopped = 0;
	for (Serving &serving : serving_)
		stopped += serving.module->stop_worker() ? 1 : 0;
	for (Draining &draining : draining_) {
		if (auto *module = dynamic_cast<HostedModule *>(draining.retired.module.get()))
			stopped += module->stop_worker() ? 1 : 0;
	}
	return stopped;
}

void PluginTable::release_idle_memory() noexcept
{
	for (Serving &serving : serving_)
		serving.module->release_idle_memory();
}

ModuleRecord PluginTable::record_of(const HostedModule &module, FileIdentity file)
{
	ModuleRecord record;
	record.id = module.id();
	record.name = module.name();
	record.version = module.version();
	record.source = module.source();
	record.file = file;
	record.generation = module.generation();
	record.state = ModuleState::serving;
	record.loaded_since = std::chrono::system_clock::now();
	record.isolation = module.isolation();
	record.description = module.description();
	return record;
}

ModuleRecord PluginTable::with_counters(const Serving &serving)
{
	ModuleRecord record = serving.record;
	if (serving.counters) {
		record.calls_served = serving.counters->calls.load(std::memory_order_relaxed);
		record.failures = serving.counters->failures.load(std::memory_order_relaxed);
	}
	if (const std::optional<WorkerHealth> health = serving.module->worker_health()) {
		record.crashes = health->crashes;
		record.restarts = health->restarts;
		record.last_cause = health->last_cause;
		if (health->failed)
			record.state = ModuleState::failed;
	}
	return record;
}

ModuleRecord PluginTable::add(std::shared_ptr<HostedModule> module, FileIdentity file)
{
	ModuleRecord record = record_of(*module, file);
	Serving row{module, nullptr, record};
	serving_.reserve(serving_.size() + 1); // so that nothing below can fail after the registry changed
	registry_.add(module);
	row.counters = registry_.counters(record.id);
	const auto at = std::lower_bound(serving_.begin(), serving_.end(), record.id,
	                                 [](const Serving &s, int32_t key) { return s.record.id < key; });
	serving_.insert(at, std::move(row));
	forget_failure(record.source);
	return record;
}

drpc::ModuleRegistry::Retired PluginTable::replace(int32_t old_id, std::shared_ptr<HostedModule> module,
                                                   FileIdentity file, const drpc::ModuleRegistry::Handover *handover,
                                                   std::chrono::steady_clock::time_point deadline)
{
	ModuleRecord record = record_of(*module, file);
	Serving row{module, nullptr, record};
	serving_.reserve(serving_.size() + 1);
	drpc::ModuleRegistry::Retired retired =
		handover != nullptr ? registry_.replace_handing_over(old_id, module, *handover, deadline)
				    : registry_.replace(old_id, module);
	row.counters = registry_.counters(record.id);
	std::erase_if(serving_, [&](const Serving &s) { return s.record.id == old_id; });
	const auto at = std::lower_bound(serving_.begin(), serving_.end(), record.id,
	                                 [](const Serving &s, int32_t key) { return s.record.id < key; });
	serving_.insert(at, std::move(row));
	return retired;
}

drpc::ModuleRegistry::Retired PluginTable::remove(int32_t id)
{
	drpc::ModuleRegistry::Retired retired = registry_.remove(id);
	std::erase_if(serving_, [&](const Serving &s) { return s.record.id == id; });
	return retired;
}

void PluginTable::note_load_error(int32_t id, std::string error)
{
	if (Serving *found = find(id))
		found->record.last_load_error = std::move(error);
}

void PluginTable::note_failure(const std::filesystem::path &source, std::string error)
{
	forget_failure(source);
	ModuleRecord record;
	record.source = source;
	record.state = ModuleState::failed;
	record.loaded_since = std::chrono::system_clock::now();
	record.last_load_error = std::move(error);
	failed_.push_back(std::move(record));
}

void PluginTable::forget_failure(const std::filesystem::path &source)
{
	std::erase_if(failed_, [&](const ModuleRecord &r) { return r.source == source; });
}

void PluginTable::add_draining(drpc::ModuleRegistry::Retired retired, ModuleRecord record)
{
	record.state = ModuleState::draining;
	draining_.push_back({std::move(retired), std::move(record)});
}

std::vector<std::pair<drpc::ModuleRegistry::Retired, ModuleRecord>> PluginTable::take_drained()
{
	std::vector<std::pair<drpc::ModuleRegistry::Retired, ModuleRecord>> drained;
	for (auto it = draining_.begin(); it != draining_.end();) {
		if (it->retired.calls_in_flight() != 0) {
			++it;
			continue;
		}
		drained.emplace_back(std::move(it->retired), std::move(it->record));
		it = draining_.erase(it);
	}
	return drained;
}

void PluginTable::add_pinned(std::filesystem::path copy, ModuleRecord record)
{
	record.state = ModuleState::pinned;
	pinned_.push_back({std::move(copy), std::move(record)});
}

void PluginTable::release_pinned(bool (*still_mapped)(const std::filesystem::path &))
{
	std::erase_if(pinned_, [&](const Pinned &p) { return !still_mapped(p.copy); });
}

std::vector<ModuleRecord> PluginTable::list() const
{
	std::vector<ModuleRecord> records;
	records.reserve(serving_.size() + draining_.size() + pinned_.size());
	for (const Serving &serving : serving_)
		records.push_back(with_counters(serving));
	for (const Draining &draining : draining_)
		records.push_back(draining.record);
	for (const Pinned &pinned : pinned_)
		records.push_back(pinned.record);
	return records;
}

std::vector<ModuleRecord> PluginTable::failed() const { return failed_; }

} // namespace drpc::host
