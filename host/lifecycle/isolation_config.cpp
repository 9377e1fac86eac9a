// SPDX-License-Identifier: Apache-2.0
// Resolving one module's isolation settings against the default.
#include <drpc/lifecycle/isolation_config.hpp>

namespace drpc::host {

IsolationSettings IsolationConfig::for_module(std::string_view name) const
{
	IsolationSettings settings;
	if (const auto found = modules.find(name); found != modules.end())
		settings = found->second;
	if (!settings.isolation)
		settings.isolation = default_isolation;
	return settings;
}

} // namespace drpc::host
