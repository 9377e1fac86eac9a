// SPDX-License-Identifier: Apache-2.0
/// @file plugin_module.hpp
/// A loaded plugin as a drpc::Module: the mapped library, its descriptor and
/// the one instance created from it, torn down in that order's reverse.
#pragma once

#include "hosted_module.hpp"
#include "runtime_dir.hpp"
#include <drpc/lifecycle/access_list.hpp>

#include <drpc/log.hpp>
#include <drpc/plugin.h>

#include <boost/dll/shared_library.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

namespace drpc::host {

/// What the loader hands over once a plugin is mapped, checked and created.
struct LoadedPlugin {
	std::filesystem::path source; ///< the file in the plugins directory
	uint64_t generation = 0;      ///< unique per load, across all files
	RuntimeFile copy;             ///< the host's copy, removed with the module (none in a worker)
	std::filesystem::path mapped; ///< the path the dynamic loader mapped
	boost::dll::shared_library library;
	const drpc_plugin *plugin = nullptr; ///< checked: non-null create/destroy/call
	/// The plugin's call_with_error when its struct has one (version 2+), else null.
	decltype(drpc_plugin::call_with_error) call_with_error = nullptr;
	drpc_plugin_info info{};  ///< as read from the file, equal to *plugin->info
	void *instance = nullptr; ///< from plugin->create()
	/// modules.<name>.allow; null (every client may call) when not configured.
	std::shared_ptr<const AccessList> access;
	/// What the plugin's describe() said, checked; null when it has none.
	std::shared_ptr<const ModuleDescription> description;
};

/// Routes calls into a plugin instance. The object owns the instance and the
/// library: its destructor calls destroy() and only then unmaps the code,
/// and it must not run while a call is inside the plugin (the registry's
/// leases and Retired::wait_drained() guarantee that).
class PluginModule final : public HostedModule {
public:
	/// Throws std::bad_alloc only.
	explicit PluginModule(LoadedPlugin loaded);
	~PluginModule() override;

	[[nodiscard]] int32_t id() const noexcept override { return loaded_.info.module_id; }
	[[nodiscard]] std::string name() const override { return loaded_.info.name; }
	[[nodiscard]] std::string version() const override { return loaded_.info.version; }
	[[nodiscard]] const drpc_plugin_info &info() const noexcept override { return loaded_.info; }
	[[nodiscard]] const std::filesystem::path &source() const noexcept override { return loaded_.source; }
	[[nodiscard]] const std::filesystem::path &runtime_copy() const noexcept { return loaded_.mapped; }
	[[nodiscard]] std::filesystem::path mapped_copy() const override { return loaded_.mapped; }
	[[nodiscard]] uint64_t generation() const noexcept override { return loaded_.generation; }
	[[nodiscard]] Isolation isolation() const noexcept override { return Isolation::in_process; }
	[[nodiscard]] std::shared_ptr<const ModuleDescription> description() const noexcept override
	{
		return loaded_.description;
	}

	/// Fills a drpc_call_info, hands the body to the plugin's call() and
	/// returns its status; a status outside drpc.Status answers FAILURE.
	drpc::Status handle_call(const drpc::CallContext &context, std::span<const uint8_t> body,
	                         drpc::ResponseBody &out) override;

	[[nodiscard]] bool has_state_handoff() const noexcept override
	{
		return loaded_.plugin->export_state != nullptr;
	}
	[[nodiscard]] std::string export_state() override;
	void import_state(std::span<const uint8_t> state) override;

private:
	/// A failing handler may fail on every call: its log lines are limited
	/// per module, so one noisy plugin cannot hide another's. Before
	/// loaded_: if it cannot be made, `loaded` has not been taken over yet.
	drpc::log::RateLimit handler_failures_;
	LoadedPlugin loaded_;
};

} // namespace drpc::host
