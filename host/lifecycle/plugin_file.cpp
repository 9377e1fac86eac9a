// SPDX-License-Identifier: Apache-2.0
// Opening, checking and copying plugin files out of the plugins directory.
#include "plugin_file.hpp"

#include "plugin_names.hpp"
#include "write_lease.hpp"

#include "file_permissions.hpp"

#include <drpc/error.hpp>
#include <drpc/unique_fd.hpp>

#include <algorithm>
#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace drpc::host {
namespace {

bool is_candidate(std::string_view name) { return !why_not_a_plugin_name(name); }

/// Copies all of `from` into `to`, refusing more than max_plugin_file_bytes
/// (the file may grow after it was checked).
void copy_contents(int from, int to)
{
	const auto buffer = std::make_unique<char[]>(64 * 1024);
	uint64_t total = 0;
	for (;;) {
		const ssize_t got = ::read(from, buffer.get(), 64 * 1024);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			throw drpc::SystemError("read", errno);
		}
		if (got == 0)
			return;
		total += static_cast<uint64_t>(got);
		if (total > max_plugin_file_bytes)
			throw drpc::Error("larger than " + std::to_string(max_plugin_file_bytes) + " bytes");
		for (ssize_t done = 0; done < got;) {
			const ssize_t put = ::write(to, buffer.get() + done, static_cast<size_t>(got - done));
			if (put < 0) {
				if (errno == EINTR)
					continue;
				throw drpc::SystemError("write to the runtime copy", errno);
			}
			done += put;
		}
	}
}

} // namespace

PluginDirectory::PluginDirectory(std::filesystem::path path, bool strict_permissions)
	: path_(std::move(path)), strict_(strict_permissions)
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

std::vector<std::string> PluginDirectory::list() const
{
	const int listing_fd = ::dup(fd_.get());
	if (listing_fd < 0)
		throw drpc::SystemError("plugins directory " + path_.string() + ": dup", errno);
	const std::unique_ptr<DIR, int (*)(DIR *)> dir(::fdopendir(listing_fd), &::closedir);
	if (!dir) {
		const int error = errno;
		::close(listing_fd);
		throw drpc::SystemError("plugins directory " + path_.string() + ": fdopendir", error);
	}
	::rewinddir(dir.get());
	std::vector<std::string> names;
	errno = 0;
	while (const dirent *entry = ::readdir(dir.get())) {
		if (is_candidate(entry->d_name))
			names.emplace_back(entry->d_name);
		errno = 0;
	}
	if (errno != 0)
		throw drpc::SystemError("plugins directory " + path_.string() + ": readdir", errno);
	std::sort(names.begin(), names.end());
	return names;
}

RuntimeFile PluginDirectory::copy_plugin(std::string_view name, RuntimeDir &runtime, uint64_t generation) const
{
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
	if (static_cast<uint64_t>(st.st_size) > max_plugin_file_bytes)
		throw drpc::Error("larger than " + std::to_string(max_plugin_file_bytes) + " bytes");
	if (strict_) {
		if (const auto why = untrusted_because(st))
			throw drpc::Error(*why);
	}
	// Half a file is never loaded, whoever asked (watcher, SIGHUP, admin).
	if (open_writers(source.get()) == Writers::some)
		throw drpc::Error("still open for writing; it is loaded once its writer closes it");

	const std::string_view stem = name.ends_with(".so") ? name.substr(0, name.size() - 3) : name;
	RuntimeFile copy = runtime.create_file(stem.empty() ? std::string_view("plugin") : stem, generation);
	copy_contents(source.get(), copy.fd());
	return copy;
}

} // namespace drpc::host
