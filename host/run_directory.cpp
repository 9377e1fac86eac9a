// SPDX-License-Identifier: Apache-2.0
// The run directory: choosing, creating and checking it, and clearing what
// dead hosts left in it.
#include "run_directory.hpp"

#include <drpc/lifecycle/directory_entries.hpp>

#include <drpc/lifecycle/file_permissions.hpp>

#include <drpc/error.hpp>
#include <drpc/log.hpp>
#include <drpc/unique_fd.hpp>

#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace drpc::host {
namespace {

constexpr std::string_view log_component = "host";
constexpr std::string_view runtime_prefix = "drpc-host-";
/// What the kernel calls a drpc-host process (/proc/<pid>/comm).
constexpr std::string_view host_comm = "drpc-host";

/// The pid in "drpc-host-<pid>-XXXXXX", when the name is one of ours.
std::optional<pid_t> runtime_dir_pid(std::string_view name) noexcept
{
	if (!name.starts_with(runtime_prefix))
		return std::nullopt;
	name.remove_prefix(runtime_prefix.size());
	const size_t dash = name.find('-');
	if (dash == std::string_view::npos || name.size() - dash - 1 != 6) // mkdtemp's XXXXXX
		return std::nullopt;
	pid_t pid = 0;
	const auto [end, error] = std::from_chars(name.data(), name.data() + dash, pid);
	if (error != std::errc() || end != name.data() + dash || pid <= 0)
		return std::nullopt;
	return pid;
}

/// Whether `pid` is a running drpc-host (other than this one).
bool is_running_host(pid_t pid)
{
	if (pid == ::getpid())
		return true;
	if (::kill(pid, 0) != 0 && errno == ESRCH)
		return false;
	std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
	std::string name;
	if (!std::getline(comm, name))
		return false; // gone meanwhile, or not ours to see: not a live host of this user
	return name == host_comm;
}

/// Removes one stale runtime directory `name`, opened from `parent_fd`;
/// false when it is not ours to remove or not empty afterwards.
bool remove_runtime_dir(int parent_fd, const std::string &name)
{
	struct stat before {};
	if (::fstatat(parent_fd, name.c_str(), &before, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(before.st_mode) ||
	    before.st_uid != ::geteuid())
		return false;
	const drpc::UniqueFd dir(::openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
	if (!dir.valid())
		return false;
	const int fd = dir.get();
	// A live host holds its runtime directory locked (RuntimeDir): the lock,
	// not the pid, is what proves it abandoned.
	struct stat opened {};
	if (::flock(fd, LOCK_EX | LOCK_NB) != 0 || ::fstat(fd, &opened) != 0 || opened.st_ino != before.st_ino ||
	    opened.st_dev != before.st_dev)
		return false;
	const std::vector<std::string> copies =
		directory_entries(fd, [](std::string_view file) { return file.size() > 3 && file.ends_with(".so"); });
	for (const std::string &copy : copies) {
		struct stat st {};
		if (::fstatat(fd, copy.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
			(void)::unlinkat(fd, copy.c_str(), 0);
	}
	return ::unlinkat(parent_fd, name.c_str(), AT_REMOVEDIR) == 0;
}

} // namespace

std::filesystem::path default_run_directory(uid_t euid, const char *xdg_runtime_dir)
{
	if (euid == 0)
		return "/run/drpc";
	if (xdg_runtime_dir == nullptr || xdg_runtime_dir[0] != '/')
		throw drpc::Error("no run directory: XDG_RUNTIME_DIR is not set (or not absolute) and the host is "
		                  "not root; set XDG_RUNTIME_DIR, or run_directory in the config (a directory "
		                  "only uid " +
		                  std::to_string(euid) + " can write)");
	return std::filesystem::path(xdg_runtime_dir) / "drpc";
}

void check_socket_directory(const std::filesystem::path &socket)
{
	const std::filesystem::path directory = socket.parent_path().empty() ? "." : socket.parent_path();
	struct stat st {};
	if (::stat(directory.c_str(), &st) != 0)
		throw drpc::SystemError("socket.path " + socket.string() + ": directory " + directory.string(), errno);
	std::string why;
	if (st.st_uid != ::geteuid() && st.st_uid != 0)
		why = "is owned by uid " + std::to_string(st.st_uid);
	else if ((st.st_mode & S_IWOTH) != 0)
		why = "is writable by others (mode " + format_mode(st.st_mode) + ")";
	if (!why.empty())
		throw drpc::Error("socket.path " + socket.string() + ": its directory " + directory.string() + " " +
		                  why +
		                  ", so another user could bind or replace the socket; leave socket.path "
		                  "unset for the run directory, or use a directory only root or uid " +
		                  std::to_string(::geteuid()) + " can write");
}

RunDirectory::RunDirectory(std::filesystem::path path) : path_(std::move(path))
{
	const std::string where = "run directory " + path_.string() + ": ";
	if (::mkdir(path_.c_str(), 0755) != 0 && errno != EEXIST)
		throw drpc::SystemError(where + "mkdir", errno);
	struct stat link {};
	if (::lstat(path_.c_str(), &link) == 0 && S_ISLNK(link.st_mode))
		throw drpc::Error(where + "is a symbolic link; it must be a real directory");
	fd_.reset(::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
	if (!fd_.valid()) {
		if (errno == ELOOP)
			throw drpc::Error(where + "is a symbolic link; it must be a real directory");
		if (errno == ENOTDIR)
			throw drpc::Error(where + "not a directory");
		throw drpc::SystemError(where + "open", errno);
	}
	struct stat st {};
	std::string why;
	if (::fstat(fd_.get(), &st) != 0)
		why = std::string("fstat: ") + std::strerror(errno);
	else if (st.st_uid != ::geteuid())
		why = "owned by uid " + std::to_string(st.st_uid) + ", not by the host's uid " +
		      std::to_string(::geteuid());
	else if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		why = "writable by group or others (mode " + format_mode(st.st_mode) + "; expected 0755 or tighter)";
	if (!why.empty())
		throw drpc::Error(where + why);
}

RunDirectory::~RunDirectory() = default;

std::filesystem::path RunDirectory::make_runtime_dir() const
{
	std::string pattern = (path_ / (std::string(runtime_prefix) + std::to_string(::getpid()) + "-XXXXXX")).string();
	if (::mkdtemp(pattern.data()) == nullptr)
		throw drpc::SystemError("runtime directory: mkdtemp " + pattern, errno);
	return pattern;
}

size_t RunDirectory::remove_stale_runtime_dirs() const noexcept
try {
	std::vector<std::string> stale = directory_entries(fd_.get(), [](std::string_view name) {
		const auto pid = runtime_dir_pid(name);
		return pid && !is_running_host(*pid);
	});
	size_t removed = 0;
	for (const std::string &name : stale) {
		if (remove_runtime_dir(fd_.get(), name)) {
			++removed;
			drpc::log::info(log_component, "removed the runtime directory of a host that is gone: " +
			                                       (path_ / name).string());
		}
	}
	return removed;
} catch (const std::exception &e) {
	drpc::log::warn(log_component, "clearing stale runtime directories in " + path_.string() + ": " + e.what());
	return 0;
}

} // namespace drpc::host
