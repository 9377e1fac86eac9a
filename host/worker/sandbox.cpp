// SPDX-License-Identifier: Apache-2.0
// Entering the worker sandbox: Landlock, then the seccomp filter (see sandbox.hpp).
#include "sandbox.hpp"

#include "landlock_rules.hpp"
#include "seccomp_filter.hpp"

#include <cerrno>
#include <fstream>
#include <stdexcept>
#include <sys/prctl.h>
#include <system_error>

namespace drpc::host::worker {

namespace {

/// "Threads:" of /proc/self/status; 0 when unreadable.
int thread_count()
{
	std::ifstream status("/proc/self/status");
	std::string line;
	while (std::getline(status, line)) {
		if (line.starts_with("Threads:"))
			return std::stoi(line.substr(8));
	}
	return 0;
}

} // namespace

bool sandbox_available() noexcept { return seccomp_available(); }

std::string enter_sandbox(const SandboxPolicy &policy)
{
	if (!seccomp_available())
		(void)install_seccomp_filter(); // throws, saying why
	if (const int threads = thread_count(); threads != 1)
		throw std::invalid_argument("sandbox: entered with " + std::to_string(threads) +
		                            " threads; Landlock would confine only the calling one");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		throw std::system_error(errno, std::generic_category(), "sandbox: prctl(PR_SET_NO_NEW_PRIVS)");
	LandlockPaths paths;
	paths.read_only = policy.read_only;
	paths.read_only_fds = policy.read_only_fds;
	paths.read_write = policy.read_write;
	paths.optional_read_only = {"/usr",           "/lib",       "/lib64",
	                            "/lib32",         "/libx32",    "/etc/ld.so.cache",
	                            "/etc/localtime", "/proc/self", "/dev/urandom"};
	paths.optional_read_write = {"/dev/null"};
	// Neither step denies what the other needs (the filter leaves Landlock's
	// syscalls and open() alone), so the order is only the log line's.
	const std::string landlock = apply_landlock(paths);
	const std::string seccomp = install_seccomp_filter();
	return "sandbox: " + seccomp + "; " + landlock;
}

} // namespace drpc::host::worker
