// SPDX-License-Identifier: Apache-2.0
// drpc-host --check-config.
#include "config_check.hpp"

#include <drpc/lifecycle/plugin_check.hpp>

namespace drpc::host {

bool check_config(const HostConfig &config, std::ostream &out) noexcept
{
	try {
		out << "config: socket " << config.socket.path.string() << ", plugins "
		    << config.plugins.directory.string() << '\n';
		const PluginCheck check =
			check_plugins(config.plugins.directory, config.plugins.strict_permissions, out);
		for (const auto &[module, unused] : config.modules) {
			if (!check.names.contains(module))
				out << "warning: modules." << module << ": no plugin that would load is called "
				    << module << '\n';
		}
		out << check.loaded << " plugin(s) would load, " << check.refused << " would be refused\n";
		return check.refused == 0;
	} catch (const std::exception &e) {
		out << "error: " << e.what() << '\n';
		return false;
	}
}

} // namespace drpc::host
