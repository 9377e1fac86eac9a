// SPDX-License-Identifier: Apache-2.0
// drpc-host --check-config.
#include "config_check.hpp"

#include "plugin_file.hpp"
#include "plugin_info.hpp"
#include <drpc/lifecycle/reserved_ids.hpp>
#include "runtime_dir.hpp"

#include <drpc/error.hpp>

#include <cerrno>
#include <map>
#include <set>
#include <unistd.h>
#include <vector>

namespace drpc::host {
namespace {

/// The whole runtime copy; its size was capped by copy_plugin().
std::vector<uint8_t> read_copy(const RuntimeFile &copy)
{
	std::vector<uint8_t> bytes;
	uint8_t chunk[64 * 1024];
	for (off_t offset = 0;;) {
		const ssize_t got = ::pread(copy.fd(), chunk, sizeof(chunk), offset);
		if (got < 0)
			throw drpc::SystemError("reading " + copy.path().string(), errno);
		if (got == 0)
			return bytes;
		bytes.insert(bytes.end(), chunk, chunk + got);
		offset += got;
	}
}

} // namespace

bool check_config(const HostConfig &config, std::ostream &out) noexcept
{
	try {
		out << "config: socket " << config.socket.path.string() << ", plugins "
		    << config.plugins.directory.string() << '\n';
		const PluginDirectory directory(config.plugins.directory, config.plugins.strict_permissions);
		// A private runtime directory: the configured one may be a running host's (and locked).
		RuntimeDir runtime(std::filesystem::path(), config.plugins.strict_permissions);
		std::map<int32_t, std::string> taken;
		std::set<std::string, std::less<>> names;
		size_t loaded = 0;
		size_t refused = 0;
		for (const std::string &name : directory.list()) {
			try {
				const RuntimeFile copy = directory.copy_plugin(name, runtime, 0);
				const drpc_plugin_info info = read_plugin_info(read_copy(copy));
				if (is_reserved_id(info.module_id))
					throw drpc::Error("module " + format_module_id(info.module_id) +
					                  " is reserved for the host's own modules");
				if (const auto it = taken.find(info.module_id); it != taken.end())
					throw drpc::Error("module " + format_module_id(info.module_id) +
					                  " is taken by " + it->second);
				taken.emplace(info.module_id, name);
				names.insert(info.name);
				out << "load " << name << ": " << describe(info) << '\n';
				++loaded;
			} catch (const std::exception &e) {
				out << "refuse " << name << ": " << e.what() << '\n';
				++refused;
			}
		}
		for (const auto &[module, unused] : config.modules) {
			if (!names.contains(module))
				out << "warning: modules." << module << ": no plugin that would load is called "
				    << module << '\n';
		}
		out << loaded << " plugin(s) would load, " << refused << " would be refused\n";
		return refused == 0;
	} catch (const std::exception &e) {
		out << "error: " << e.what() << '\n';
		return false;
	}
}

} // namespace drpc::host
