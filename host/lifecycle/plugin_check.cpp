// SPDX-License-Identifier: Apache-2.0
// Checking a plugins directory's files without loading them (--check-config).
#include <drpc/lifecycle/plugin_check.hpp>

#include "plugin_file.hpp"
#include "plugin_info.hpp"
#include "runtime_dir.hpp"

#include <drpc/error.hpp>
#include <drpc/lifecycle/reserved_ids.hpp>

#include <cerrno>
#include <map>
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

PluginCheck check_plugins(const std::filesystem::path &plugins_dir, bool strict_permissions, std::ostream &out)
{
	const PluginDirectory directory(plugins_dir, strict_permissions);
	// A private runtime directory: the configured one may be a running host's (and locked).
	RuntimeDir runtime(std::filesystem::path(), strict_permissions);
	std::map<int32_t, std::string> taken;
	PluginCheck check;
	for (const std::string &name : directory.list()) {
		try {
			const RuntimeFile copy = directory.copy_plugin(name, runtime, 0);
			const drpc_plugin_info info = read_plugin_info(read_copy(copy));
			if (is_reserved_id(info.module_id))
				throw drpc::Error("module " + format_module_id(info.module_id) +
				                  " is reserved for the host's own modules");
			if (const auto it = taken.find(info.module_id); it != taken.end())
				throw drpc::Error("module " + format_module_id(info.module_id) + " is taken by " +
				                  it->second);
			taken.emplace(info.module_id, name);
			check.names.insert(info.name);
			out << "load " << name << ": " << describe(info) << '\n';
			++check.loaded;
		} catch (const std::exception &e) {
			out << "refuse " << name << ": " << e.what() << '\n';
			++check.refused;
		}
	}
	return check;
}

} // namespace drpc::host
