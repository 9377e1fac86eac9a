// SPDX-License-Identifier: Apache-2.0
// The runtime directory: creating, locking, checking and emptying it.
#include "runtime_dir.hpp"

#include <drpc/lifecycle/directory_entries.hpp>

#include <drpc/lifecycle/file_permissions.hpp>

#include <drpc/error.hpp>
#include <drpc/log.hpp>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <memory>
#include <string>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace drpc::host {
namespace {

constexpr std::string_view log_component = "plugins";

/// The directory mkdtemp(3) makes a fresh runtime directory in.
std::filesystem::path default_parent()
{
	const char *xdg = std::getenv("XDG_RUNTIME_DIR");
	if (xdg != nullptr && xdg[0] == '/') {
		struct stat st {};
		if (::stat(xdg, &st) == 0 && S_ISDIR(st.st_mode))
			return xdg;
	}
	return "/tmp";
}

std::filesystem::path make_fresh_dir()
{
	std::string pattern = (default_parent() / ("drpc-host-" + std::to_string(::getpid()) + "-XXXXXX")).string();
	if (::mkdtemp(pattern.data()) == nullptr)
		throw drpc::SystemError("runtime directory: mkdtemp " + pattern, errno);
	return pattern;
}

bool is_copy_name(std::string_view name) noexcept { return name.size() > 3 && name.ends_with(".so"); }

} // namespace

RuntimeFile::RuntimeFile(RuntimeFile &&other) noexcept : path_(std::move(other.path_)), fd_(std::move(other.fd_))
{
	other.path_.clear();
}

RuntimeFile &RuntimeFile::operator=(RuntimeFile &&other) noexcept
{
	if (this != &other) {
		remove();
		path_ = std::move(other.path_);
		other.path_.clear();
		fd_ = std::move(other.fd_);
	}
	return *this;
}

RuntimeFile::~RuntimeFile() { remove(); }

void RuntimeFile::close() noexcept { fd_.reset(); }

void RuntimeFile::remove() noexcept
{
	close();
	if (path_.empty())
		return;
	if (::unlink(path_.c_str()) != 0 && errno != ENOENT)
		drpc::log::warn(log_component, "cannot remove " + path_.string() + ": " + std::strerror(errno));
	path_.clear();
}

RuntimeDir::RuntimeDir(const std::filesystem::path &configured, bool strict_permissions)
{
	if (configured.empty()) {
		path_ = make_fresh_dir();
	} else {
		path_ = configured;
		if (::mkdir(path_.c_str(), 0700) != 0 && errno != EEXIST)
			throw drpc::SystemError("runtime directory " + path_.string() + ": mkdir", errno);
	}
	fd_.reset(::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
	if (!fd_.valid())
		throw drpc::SystemError("runtime directory " + path_.string() + ": open", errno);
	{
		if (::flock(fd_.get(), LOCK_EX | LOCK_NB) != 0) {
			if (errno == EWOULDBLOCK)
				throw drpc::Error("runtime directory " + path_.string() +
				                  ": in use by another drpc-host");
			throw drpc::SystemError("runtime directory " + path_.string() + ": flock", errno);
		}
		if (strict_permissions) {
			struct stat st {};
			if (::fstat(fd_.get(), &st) != 0)
				throw drpc::SystemError("runtime directory " + path_.string() + ": fstat", errno);
			if (const auto why = not_private_because(st))
				throw drpc::Error("runtime directory " + path_.string() + ": " + *why);
		}
	}
	if (const size_t stale = remove_copies(); stale != 0)
		drpc::log::info(log_component,
		                "removed " + std::to_string(stale) + " stale plugin copies from " + path_.string());
	drpc::log::debug(log_component, "runtime directory " + path_.string());
}

RuntimeDir::~RuntimeDir()
{
	remove_copies();
	if (::rmdir(path_.c_str()) != 0)
		drpc::log::warn(log_component,
		                "cannot remove runtime directory " + path_.string() + ": " + std::strerror(errno));
}

RuntimeFile RuntimeDir::create_file(std::string_view stem, uint64_t generation)
{
	// Keep the name well under NAME_MAX whatever the plugin file is called.
	const std::string name = std::string(stem.substr(0, 200)) + "." + std::to_string(generation) + ".so";
	const int fd = ::openat(fd_.get(), name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		throw drpc::SystemError("runtime copy " + (path_ / name).string() + ": create", errno);
	return RuntimeFile(path_ / name, fd);
}

size_t RuntimeDir::remove_copies() noexcept
try {
	const std::vector<std::string> names = directory_entries(fd_.get(), is_copy_name);
	size_t removed = 0;
	for (const std::string &name : names) {
		if (::unlinkat(fd_.get(), name.c_str(), 0) == 0)
			++removed;
	}
	return removed;
} catch (const std::exception &e) {
	drpc::log::warn(log_component, "cleaning runtime directory " + path_.string() + ": " + e.what());
	return 0;
}

} // namespace drpc::host
