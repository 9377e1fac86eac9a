// SPDX-License-Identifier: Apache-2.0
// An isolated worker's confinement of itself (see confinement.hpp for the order and why).
#include "confinement.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <grp.h>
#include <linux/close_range.h>
#include <pwd.h>
#include <stdexcept>
#include <string>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <system_error>
#include <unistd.h>

namespace drpc::host::worker {

namespace {

[[noreturn]] void fail(const std::string &step, int error = errno)
{
	throw std::system_error(error, std::generic_category(), "confine: " + step);
}

/// Closes [first, last]: close_range(2), or one close() each where the kernel
/// is older than 5.9 (ENOSYS).
void close_fds(unsigned first, unsigned last)
{
	if (first > last)
		return;
	if (syscall(SYS_close_range, first, last, 0) == 0)
		return;
	if (errno != ENOSYS)
		fail("close_range(" + std::to_string(first) + ".." + std::to_string(last) + ")");
	rlimit files{};
	if (getrlimit(RLIMIT_NOFILE, &files) != 0)
		fail("getrlimit(RLIMIT_NOFILE)");
	const rlim_t end = std::min<rlim_t>(files.rlim_cur == RLIM_INFINITY ? 65536 : files.rlim_cur, last + rlim_t{1});
	for (rlim_t fd = first; fd < end; ++fd)
		(void)close(static_cast<int>(fd));
}

void close_all_but(std::vector<int> keep)
{
	for (const int fd : keep) {
		if (fd > 2 && fcntl(fd, F_GETFD) == -1)
			throw std::invalid_argument("confine: descriptor " + std::to_string(fd) +
			                            " to keep is not open");
	}
	std::ranges::sort(keep);
	unsigned next = 3; // the lowest descriptor not yet closed or kept
	for (const int fd : keep) {
		if (fd < static_cast<int>(next))
			continue; // 0..2, or a duplicate entry
		close_fds(next, static_cast<unsigned>(fd) - 1);
		next = static_cast<unsigned>(fd) + 1;
	}
	close_fds(next, UINT_MAX);
}

/// VmData from /proc/self/status, in bytes.
uint64_t data_size()
{
	std::ifstream status("/proc/self/status");
	std::string line;
	while (std::getline(status, line)) {
		if (line.starts_with("VmData:"))
			return std::stoull(line.substr(7)) * 1024; // "VmData:   1234 kB"
	}
	fail("reading VmData from /proc/self/status", ENOENT);
}

void limit_memory(uint64_t limit)
{
	const uint64_t now = data_size();
	const rlim_t value = limit > RLIM_INFINITY - 1 - now ? RLIM_INFINITY - 1 : now + limit;
	const rlimit data{value, value};
	if (setrlimit(RLIMIT_DATA, &data) != 0)
		fail("setrlimit(RLIMIT_DATA, " + std::to_string(value) + ")");
}

gid_t primary_group(uid_t uid)
{
	passwd entry{};
	passwd *found = nullptr;
	std::vector<char> buffer(16384);
	const int error = getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found);
	if (found == nullptr)
		fail("no primary group for uid " + std::to_string(uid) + " (getpwuid_r)", error != 0 ? error : ENOENT);
	return entry.pw_gid;
}

void drop_privileges(std::optional<uid_t> uid, std::optional<gid_t> gid)
{
	if (uid && !gid)
		gid = primary_group(*uid);
	if (gid) {
		if (geteuid() == 0 && setgroups(0, nullptr) != 0)
			fail("setgroups(none)");
		if (setresgid(*gid, *gid, *gid) != 0)
			fail("setresgid(" + std::to_string(*gid) + ")");
		gid_t real = 0, effective = 0, saved = 0;
		if (getresgid(&real, &effective, &saved) != 0 || real != *gid || effective != *gid || saved != *gid)
			fail("group ids are not all " + std::to_string(*gid) + " after setresgid", EPERM);
	}
	if (uid) {
		if (setresuid(*uid, *uid, *uid) != 0)
			fail("setresuid(" + std::to_string(*uid) + ")");
		uid_t real = 0, effective = 0, saved = 0;
		if (getresuid(&real, &effective, &saved) != 0 || real != *uid || effective != *uid || saved != *uid)
			fail("user ids are not all " + std::to_string(*uid) + " after setresuid", EPERM);
		if (*uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
			fail("root regained after dropping to uid " + std::to_string(*uid), EPERM);
		if (*uid != 0 && gid && *gid != 0 && (setgid(0) == 0 || setegid(0) == 0))
			fail("group root regained after dropping to gid " + std::to_string(*gid), EPERM);
	}
}

} // namespace

void confine(const ProcessConfinement &confinement)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		fail("prctl(PR_SET_NO_NEW_PRIVS)");
	close_all_but(confinement.keep_fds);
	if (confinement.memory_limit_bytes)
		limit_memory(*confinement.memory_limit_bytes);
	drop_privileges(confinement.uid, confinement.gid);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
		fail("prctl(PR_SET_PDEATHSIG, SIGKILL)");
	// The host may have died before the signal was armed: then nobody would kill us.
	if (getppid() != confinement.parent)
		_exit(parent_gone_exit_status);
}

} // namespace drpc::host::worker
