// SPDX-License-Identifier: Apache-2.0
// Opening, checking and copying plugin files out of the plugins directory.
#include "plugin_file.hpp"

#include "plugin_names.hpp"
#include "sparse_copy.hpp"
#include "write_lease.hpp"
#include <drpc/lifecycle/directory_entries.hpp>

#include <drpc/lifecycle/file_permissions.hpp>

#include <drpc/error.hpp>
#include <drpc/unique_fd.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace drpc::host {
namespace {

bool is_candidate(std::string_view name) { return !why_not_a_plugin_name(name); }

} // namespace

PluginDirectory::PluginDirectory(std::filesystem::path path, bool strict_permissions, uint64_t max_file_bytes)
	: path_(std::move(path)), strict_(strict_permissions), max_file_bytes_(max_file_bytes)
{
	// The directory itself may be reached through a link (e.g. a versioned
	// install); its files may not.
	fd_.reset(::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	if (!fd_.valid())
		throw drpc::SystemError("plugins directory " + path_.string(), errno);
	if (!strict_)
		return;
	struct stat st {};
	if (::fstat(fd_.get(), &st) != 0)
		throw drpc::SystemError("plugins directory " + path_.string() + ": fstat", errno);
	if (const auto why = untrusted_because(st))
		throw drpc::Error("plugins directory " + path_.string() + ": " + *why);
}

PluginDirectory::~PluginDirectory() = default;

std::optional<std::string> PluginDirectory::distrusted_because() const
{
	if (!strict_)
		return std::nullopt;
	struct stat st {};
	if (::fstat(fd_.get(), &st) != 0)
		return "plugins directory " + path_.string() + ": fstat: " + std::strerror(errno);
	if (auto why = untrusted_because(st))
		return "plugins directory " + path_.string() + " is no longer trusted: " + *why +
		       "; no plugin is loaded, reloaded or unloaded from it until that is fixed, and the "
		       "modules already loaded keep serving";
	return std::nullopt;
}

std::vector<std::string> PluginDirectory::list() const
{
	if (auto why = distrusted_because())
		throw drpc::Error(*why);
	std::vector<std::string> names;
	try {
		names = directory_entries(fd_.get(), is_candidate);
	} catch (const drpc::SystemError &e) {
		throw drpc::SystemError("plugins directory " + path_.string() + ": " + e.what(), e.code());
	}
	std::sort(names.begin(), names.end());
	return names;
}

RuntimeFile PluginDirectory::copy_plugin(std::string_view name, RuntimeDir &runtime, uint64_t generation) const
{
	if (auto why = distrusted_because())
		throw drpc::Error(*why);
	const std::string file_name(name);
	const drpc::UniqueFd source(
		::openat(fd_.get(), file_name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
	if (source.get() < 0) {
		if (errno == ELOOP)
			throw drpc::Error("is a symbolic link (plugin files are opened without following links)");
		throw drpc::SystemError("open", errno);
	}
	struct stat st {};
	if (::fstat(source.get(), &st) != 0)
		throw drpc::SystemError("fstat", errno);
	if (!S_ISREG(st.st_mode))
		throw drpc::Error("not a regular file");
	if (static_cast<uint64_t>(st.st_size) > max_file_bytes_)
		throw drpc::Error(std::to_string(st.st_size) + " bytes, larger than " +
		                  std::to_string(max_file_bytes_) + " (plugins.max_file_bytes)");
	if (strict_) {
		if (const auto why = untrusted_because(st))
			throw drpc::Error(*why);
	}
	// Half a file is never loaded, whoever asked (watcher, SIGHUP, admin).
	if (open_writers(source.get()) == Writers::some)
		throw drpc::Error("still open for writing; it is loaded once its writer closes it");

	const std::string_view stem = name.ends_with(".so") ? name.substr(0, name.size() - 3) : name;
	RuntimeFile copy = runtime.create_file(stem.empty() ? std::string_view("plugin") : stem, generation);
	(void)copy_keeping_holes(source.get(), copy.fd(), max_file_bytes_);
	return copy;
}

} // namespace drpc::host
