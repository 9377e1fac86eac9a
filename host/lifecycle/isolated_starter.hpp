// SPDX-License-Identifier: Apache-2.0
/// @file isolated_starter.hpp
/// The seam between the loader and isolated modules: once a file is copied,
/// checked and admitted, a module with isolation "process" is handed to an
/// IsolatedStarter (host/isolation) instead of being mapped here.
#pragma once

#include "hosted_module.hpp"
#include "runtime_dir.hpp"

#include <drpc/lifecycle/access_list.hpp>
#include <drpc/lifecycle/isolation_config.hpp>

#include <drpc/plugin.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace drpc::host {

/// A checked, admitted plugin file to serve from a worker process.
struct IsolatedPlugin {
	std::filesystem::path source; ///< the file in the plugins directory
	uint64_t generation = 0;
	RuntimeFile copy;                         ///< the host's private copy, closed; removed with the module
	drpc_plugin_info info{};                  ///< as read from the copy (checked)
	std::string config;                       ///< modules.<name> as JSON text, for create()
	std::shared_ptr<const AccessList> access; ///< checked by the host, before forwarding
	IsolationSettings settings;
};

class IsolatedStarter {
public:
	virtual ~IsolatedStarter() = default;
	/// Starts a worker serving `plugin` and returns the module forwarding
	/// calls to it, once the worker has loaded the plugin and created its
	/// instance. Throws drpc::Error saying why the worker did not serve
	/// (its load error, or how it died).
	[[nodiscard]] virtual std::shared_ptr<HostedModule> start(IsolatedPlugin plugin) = 0;
};

} // namespace drpc::host
