// SPDX-License-Identifier: Apache-2.0
// The loaded plugins and the uniqueness rules they obey.
#include "plugin_set.hpp"

#include "plugin_info.hpp"
#include "reserved_ids.hpp"

#include <drpc/log.hpp>

#include <algorithm>

namespace drpc::host {
namespace {

constexpr std::string_view log_component = "plugins";

} // namespace

void PluginSet::load_directory(const PluginDirectory &directory)
{
	const std::vector<std::string> names = directory.list();
	if (names.empty())
		drpc::log::warn(log_component, "no plugins (*.so) in " + directory.path().string());
	for (const std::string &name : names)
		(void)load(directory, name);
}

LoadResult PluginSet::load(const PluginDirectory &directory, std::string_view name)
{
	const std::filesystem::path source = directory.path() / name;
	LoadResult result =
		loader_.load(directory, name, [&](const drpc_plugin_info &info) { return admission(info, source); });
	if (result.ok()) {
		drpc::log::info(log_component, "loaded " + result.module->describe());
		modules_.push_back(result.module);
	} else {
		drpc::log::error(log_component,
		                 "refused " + drpc::log::untrusted(source.string() + ": " + result.error, 1024));
		failures_.push_back({source, result.generation, result.error});
	}
	return result;
}

std::optional<std::string> PluginSet::admission(const drpc_plugin_info &info, const std::filesystem::path &source) const
{
	const std::string id = format_module_id(info.module_id);
	if (is_reserved_id(info.module_id))
		return "module ID " + id + " is in the range " + format_module_id(reserved_id_first) + ".." +
		       format_module_id(reserved_id_last) + " reserved for the host's built-in modules";
	for (const auto &module : modules_) {
		if (module->source() == source)
			continue;
		if (module->id() == info.module_id)
			return "module ID " + id + " is already served by " + module->source().string() + " (" +
			       module->name() + ")";
		// Module configs are found by name: two modules of one name would share one.
		if (module->name() == info.name)
			return "module name " + std::string(info.name) + " is already used by " +
			       module->source().string() + " (module " + format_module_id(module->id()) + ")";
	}
	return std::nullopt;
}

std::shared_ptr<PluginModule> PluginSet::find(int32_t id) const
{
	const auto found =
		std::find_if(modules_.begin(), modules_.end(), [id](const auto &m) { return m->id() == id; });
	return found == modules_.end() ? nullptr : *found;
}

std::shared_ptr<PluginModule> PluginSet::take(int32_t id)
{
	const auto found =
		std::find_if(modules_.begin(), modules_.end(), [id](const auto &m) { return m->id() == id; });
	if (found == modules_.end())
		return nullptr;
	std::shared_ptr<PluginModule> module = std::move(*found);
	modules_.erase(found);
	return module;
}

void PluginSet::adopt(std::shared_ptr<PluginModule> module) { modules_.push_back(std::move(module)); }

std::shared_ptr<PluginModule> PluginSet::find_source(const std::filesystem::path &source) const
{
	const auto found =
		std::find_if(modules_.begin(), modules_.end(), [&](const auto &m) { return m->source() == source; });
	return found == modules_.end() ? nullptr : *found;
}

} // namespace drpc::host
