// SPDX-License-Identifier: Apache-2.0
// cgroup v2 for isolated workers: detecting a delegated cgroup, and one worker's cgroup.
#include "worker_cgroup.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>
#include <vector>

namespace drpc::host::worker {

namespace {

namespace fs = std::filesystem;

/// The leaf the host moves itself into (see prepare_worker_cgroups()).
constexpr const char *host_leaf = "drpc-host";

std::string errno_text(int error) { return std::error_code(error, std::generic_category()).message(); }

/// Writes `text` to an existing cgroup file in one write(2), as the kernel
/// expects; returns 0 or the errno.
int write_file(const fs::path &path, const std::string &text) noexcept
{
	const int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
	if (fd == -1)
		return errno;
	const ssize_t written = write(fd, text.data(), text.size());
	const int error = written == static_cast<ssize_t>(text.size()) ? 0 : (written == -1 ? errno : EIO);
	(void)close(fd);
	return error;
}

std::optional<std::string> read_file(const fs::path &path)
{
	std::ifstream in(path);
	if (!in)
		return std::nullopt;
	std::ostringstream text;
	text << in.rdbuf();
	return text.str();
}

/// The path of the "0::" (cgroup v2) line of /proc/<pid>/cgroup.
std::optional<std::string> unified_path(const std::string &self_cgroup)
{
	std::istringstream lines(self_cgroup);
	std::string line;
	while (std::getline(lines, line)) {
		if (line.starts_with("0::"))
			return line.substr(3);
	}
	return std::nullopt;
}

/// The mount point of the first cgroup2 filesystem in mountinfo. Fields:
/// id parent major:minor root mount-point options... - fstype source super-options.
std::optional<fs::path> cgroup2_mount(const std::string &mountinfo)
{
	std::istringstream lines(mountinfo);
	std::string line;
	while (std::getline(lines, line)) {
		std::istringstream fields(line);
		std::string id, parent, device, root, mount_point, field;
		fields >> id >> parent >> device >> root >> mount_point;
		while (fields >> field && field != "-") {
		}
		std::string type;
		fields >> type;
		if (type == "cgroup2" && root == "/")
			return fs::path(mount_point);
	}
	return std::nullopt;
}

bool has_word(const std::string &text, const std::string &word)
{
	std::istringstream words(text);
	std::string each;
	while (words >> each) {
		if (each == word)
			return true;
	}
	return false;
}

/// Why `directory` cannot hold worker cgroups (memory controller, write
/// access), or "".
std::string check_directory(const fs::path &directory)
{
	const auto controllers = read_file(directory / "cgroup.controllers");
	if (!controllers)
		return "cannot read " + (directory / "cgroup.controllers").string() + ": not a cgroup v2 directory";
	if (!has_word(*controllers, "memory"))
		return "the memory controller is not offered to " + directory.string() + " (cgroup.controllers: \"" +
		       controllers->substr(0, controllers->find_last_not_of(" \n") + 1) +
		       "\"; it may be bound to a cgroup v1 hierarchy)";
	if (access((directory / "cgroup.subtree_control").c_str(), W_OK) != 0 || access(directory.c_str(), W_OK) != 0)
		return directory.string() + " is not delegated to this process (not writable: " + errno_text(errno) +
		       ")";
	return {};
}

/// The no-internal-process rule: a process in `directory` other than
/// `self` (0: none allowed), described; or "".
std::string other_process(const fs::path &directory, pid_t self)
{
	const auto procs = read_file(directory / "cgroup.procs");
	if (!procs)
		return "cannot read " + (directory / "cgroup.procs").string();
	std::istringstream pids(*procs);
	pid_t pid = 0;
	while (pids >> pid) {
		if (pid != self)
			return directory.string() + " also holds process " + std::to_string(pid) +
			       ", and the no-internal-process rule forbids limiting its children while it does: " +
			       (self != 0 ? "run the host in a cgroup of its own (systemd Delegate=yes)"
			                  : "give the host an empty cgroup");
	}
	return {};
}

/// Hands the memory controller to the children of `directory`; "" or what failed.
std::string enable_memory(const fs::path &directory)
{
	if (has_word(read_file(directory / "cgroup.subtree_control").value_or(""), "memory"))
		return {};
	if (const int error = write_file(directory / "cgroup.subtree_control", "+memory"); error != 0)
		return "enabling +memory in " + (directory / "cgroup.subtree_control").string() + ": " +
		       errno_text(error);
	return {};
}

CgroupSupport unavailable(const std::string &why) { return {{}, "unavailable: " + why}; }

} // namespace

CgroupSupport prepare_worker_cgroups(const CgroupSources &sources) noexcept
{
	try {
		const auto self_cgroup = read_file(sources.self_cgroup);
		if (!self_cgroup)
			return unavailable("cannot read " + sources.self_cgroup.string());
		const auto relative = unified_path(*self_cgroup);
		if (!relative)
			return unavailable("no cgroup v2 entry (0::) in " + sources.self_cgroup.string() +
			                   ": cgroup v1 only");
		const auto mountinfo = read_file(sources.mountinfo);
		const auto mount = mountinfo ? cgroup2_mount(*mountinfo) : std::nullopt;
		if (!mount)
			return unavailable("no cgroup2 filesystem mounted (" + sources.mountinfo.string() + ")");
		const fs::path below = fs::path(*relative).relative_path();
		fs::path directory = below.empty() ? *mount : *mount / below;
		if (directory.filename() == host_leaf)
			directory = directory.parent_path(); // moved there by an earlier call
		if (const std::string refused = check_directory(directory); !refused.empty())
			return unavailable(refused);
		const pid_t self = sources.self != 0 ? sources.self : getpid();
		if (const std::string other = other_process(directory, self); !other.empty())
			return unavailable(other);
		const fs::path leaf = directory / host_leaf;
		if (mkdir(leaf.c_str(), 0755) != 0 && errno != EEXIST)
			return unavailable("mkdir " + leaf.string() + ": " + errno_text(errno));
		if (const int error = write_file(leaf / "cgroup.procs", std::to_string(self)); error != 0)
			return unavailable("moving the host into " + (leaf / "cgroup.procs").string() + ": " +
			                   errno_text(error));
		if (const std::string failed = enable_memory(directory); !failed.empty())
			return unavailable(failed);
		return {directory, {}};
	} catch (const std::exception &e) {
		return unavailable(e.what());
	}
}

CgroupSupport adopt_worker_cgroups(const std::filesystem::path &directory) noexcept
{
	try {
		if (!directory.is_absolute())
			return unavailable(directory.string() + " is not an absolute path");
		if (const std::string refused = check_directory(directory); !refused.empty())
			return unavailable(refused);
		if (const std::string other = other_process(directory, 0); !other.empty())
			return unavailable(other);
		if (const std::string failed = enable_memory(directory); !failed.empty())
			return unavailable(failed);
		return {directory, {}};
	} catch (const std::exception &e) {
		return unavailable(e.what());
	}
}

WorkerCgroup::WorkerCgroup(const CgroupSupport &support, std::string_view name, std::optional<uint64_t> memory_max)
{
	if (!support)
		throw std::invalid_argument("worker cgroup: " + support.unavailable);
	if (name.empty() ||
	    name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") !=
	            std::string_view::npos ||
	    name == "." || name == "..")
		throw std::invalid_argument("worker cgroup: bad name \"" + std::string(name) + "\"");
	directory_ = support.directory / ("worker-" + std::string(name));
	if (mkdir(directory_.c_str(), 0755) != 0 && errno != EEXIST)
		throw std::system_error(errno, std::generic_category(), "worker cgroup: mkdir " + directory_.string());
	const std::string limit = memory_max ? std::to_string(*memory_max) : "max";
	if (const int error = write_file(directory_ / "memory.max", limit); error != 0) {
		(void)rmdir(directory_.c_str());
		throw std::system_error(error, std::generic_category(),
		                        "worker cgroup: writing " + limit + " to " +
		                                (directory_ / "memory.max").string());
	}
}

WorkerCgroup::~WorkerCgroup() { (void)remove(); }

void WorkerCgroup::add(pid_t pid) const
{
	if (const int error = write_file(directory_ / "cgroup.procs", std::to_string(pid)); error != 0)
		throw std::system_error(error, std::generic_category(),
		                        "worker cgroup: moving pid " + std::to_string(pid) + " into " +
		                                (directory_ / "cgroup.procs").string());
}

drpc::UniqueFd WorkerCgroup::open_procs() const
{
	const fs::path procs = directory_ / "cgroup.procs";
	drpc::UniqueFd fd(open(procs.c_str(), O_WRONLY | O_CLOEXEC));
	if (!fd.valid())
		throw std::system_error(errno, std::generic_category(), "worker cgroup: opening " + procs.string());
	return fd;
}

uint64_t WorkerCgroup::oom_kills() const noexcept
{
	try {
		std::istringstream events(read_file(directory_ / "memory.events").value_or(""));
		std::string key;
		uint64_t value = 0;
		while (events >> key >> value) {
			if (key == "oom_kill")
				return value;
		}
	} catch (...) {
	}
	return 0;
}

std::string WorkerCgroup::remove() noexcept
{
	if (removed_)
		return {};
	if (rmdir(directory_.c_str()) != 0 && errno != ENOENT)
		return "rmdir " + directory_.string() + ": " + errno_text(errno);
	removed_ = true;
	return {};
}

} // namespace drpc::host::worker
