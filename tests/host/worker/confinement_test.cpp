// SPDX-License-Identifier: Apache-2.0
// confine() in forked children: descriptors closed, ids dropped for good, death with
// the parent, a memory budget that refuses a mapping past it.
#include "forked_child.hpp"

#include <child_process.hpp>
#include <confinement.hpp>

#include <doctest/doctest.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

using drpc::host::worker::confine;
using drpc::host::worker::ProcessConfinement;
using worker_test::describe_status;
using worker_test::run_in_child;

namespace {

/// The descriptors open in this process, in /proc/self/fd order, as "3 5 7".
std::string open_fds()
{
	std::string list;
	DIR *dir = opendir("/proc/self/fd");
	if (dir == nullptr)
		return "opendir failed";
	const int own = dirfd(dir);
	while (const dirent *entry = readdir(dir)) {
		if (entry->d_name[0] == '.' || std::atoi(entry->d_name) == own)
			continue;
		list += (list.empty() ? "" : " ") + std::string(entry->d_name);
	}
	closedir(dir);
	return list;
}

bool is_open(int fd) { return fcntl(fd, F_GETFD) != -1; }

} // namespace

TEST_CASE("confine: keeps 0, 1, 2 and keep_fds, closes every other descriptor, CLOEXEC or not")
{
	const int leaked = eventfd(0, 0);             // as a careless host would leave it
	const int cloexec = eventfd(0, EFD_CLOEXEC);  // closed too: confine() runs without an exec
	const int kept = eventfd(0, EFD_CLOEXEC);     // kept, with its flag
	const int high = fcntl(leaked, F_DUPFD, 900); // far above the others
	REQUIRE(leaked > 2);
	REQUIRE(cloexec > 2);
	REQUIRE(kept > 2);
	REQUIRE(high >= 900);
	const auto result = run_in_child([&](int report) {
		confine({getppid(), {report, kept, kept, 1}, {}, {}, {}});
		std::string out = open_fds();
		out += is_open(leaked) || is_open(cloexec) || is_open(high) ? " leaked-open" : " closed";
		out += (fcntl(kept, F_GETFD) & FD_CLOEXEC) != 0 ? " kept-cloexec" : " kept-lost-flag";
		return out;
	});
	CHECK(describe_status(result.status) == "exited 0");
	CHECK(result.report.find("closed kept-cloexec") != std::string::npos);
	// Exactly 0, 1, 2, the report pipe and `kept` remain.
	const std::string listed = result.report.substr(0, result.report.find(" closed"));
	int count = 0;
	for (const char c : listed)
		count += c == ' ';
	CHECK_MESSAGE(count + 1 == 5, listed);
	CHECK(listed.find(std::to_string(kept)) != std::string::npos);
	for (const int fd : {leaked, cloexec, kept, high})
		(void)close(fd);
}

TEST_CASE("confine: a descriptor to keep that is not open is refused")
{
	const auto result = run_in_child([](int report) {
		confine({getppid(), {report, 999}, {}, {}, {}});
		return std::string("confined");
	});
	CHECK(describe_status(result.status) == "exited 1");
	CHECK(result.report == "exception: confine: descriptor 999 to keep is not open");
}

TEST_CASE("confine: no_new_privs is set")
{
	const auto result = run_in_child([](int report) {
		confine({getppid(), {report}, {}, {}, {}});
		return std::to_string(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	});
	CHECK(result.report == "1");
}

TEST_CASE("confine: as root, drops to a user and its group for good")
{
	const auto uid = test::test_user("drpc-test-worker");
	if (!uid) {
		MESSAGE("not root: privilege drop not tested");
		return;
	}
	const passwd *entry = getpwuid(*uid);
	REQUIRE(entry != nullptr);
	const gid_t gid = entry->pw_gid;
	SUBCASE("uid and gid given")
	{
		const auto result = run_in_child([&](int report) {
			confine({getppid(), {report}, *uid, gid, {}});
			uid_t r = 0, e = 0, s = 0;
			gid_t gr = 0, ge = 0, gs = 0;
			getresuid(&r, &e, &s);
			getresgid(&gr, &ge, &gs);
			const bool same_uid = r == *uid && e == *uid && s == *uid;
			const bool same_gid = gr == gid && ge == gid && gs == gid;
			const int groups = getgroups(0, nullptr);
			const int regain = setuid(0) == 0 ? 0 : errno;
			const int regain_group = setgid(0) == 0 ? 0 : errno;
			return std::string(same_uid ? "uid" : "UID?") + (same_gid ? " gid" : " GID?") +
			       " groups=" + std::to_string(groups) + " setuid0=" + std::strerror(regain) +
			       " setgid0=" + std::strerror(regain_group);
		});
		CHECK(result.report ==
		      "uid gid groups=0 setuid0=Operation not permitted setgid0=Operation not permitted");
	}
	SUBCASE("only the uid: the user's primary group is taken")
	{
		const auto result = run_in_child([&](int report) {
			confine({getppid(), {report}, *uid, {}, {}});
			return std::to_string(getegid()) + " " + std::to_string(geteuid());
		});
		CHECK(result.report == std::to_string(gid) + " " + std::to_string(*uid));
	}
	SUBCASE("the death signal survives the drop (armed after it)")
	{
		const auto result = run_in_child([&](int report) {
			confine({getppid(), {report}, *uid, gid, {}});
			int signal = 0;
			prctl(PR_GET_PDEATHSIG, &signal, 0, 0, 0);
			return std::to_string(signal);
		});
		CHECK(result.report == std::to_string(SIGKILL));
	}
}

TEST_CASE("confine: the worker dies with its parent")
{
	// A subreaper child S adopts the worker W when W's parent P dies, so the
	// test can wait for W and see how it ended.
	const auto result = run_in_child([](int report) {
		if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
			return std::string("subreaper: ") + std::strerror(errno);
		int ready[2];
		if (pipe(ready) != 0)
			return std::string("pipe failed");
		const pid_t parent = fork();
		if (parent == 0) {
			const pid_t me = getpid();
			const pid_t worker = fork();
			if (worker == 0) {
				confine({me, {ready[1]}, {}, {}, {}});
				(void)write(ready[1], &me, 1); // confined, death signal armed
				for (;;)
					pause();
			}
			char byte = 0;
			(void)close(ready[1]);
			(void)read(ready[0], &byte, 1);
			_exit(0); // the parent dies; the worker must follow
		}
		(void)close(ready[1]);
		int status = 0;
		waitpid(parent, &status, 0);
		// The worker is now our child (subreaper); it must die of SIGKILL.
		alarm(20);
		const pid_t worker = wait(&status);
		(void)report;
		return worker > 0 ? describe_status(status) : std::string("no worker to wait for");
	});
	CHECK(result.report == "killed by signal 9");
}

TEST_CASE("confine: a parent already gone makes the worker exit")
{
	const auto result = run_in_child([](int report) {
		confine({getppid() + 100000, {report}, {}, {}, {}}); // not our parent: as if it had died
		return std::string("still running");
	});
	CHECK(describe_status(result.status) ==
	      "exited " + std::to_string(drpc::host::worker::parent_gone_exit_status));
	CHECK(result.report.empty());
}

TEST_CASE("confine: memory_limit_bytes refuses a mapping past the budget")
{
	const auto result = run_in_child([](int report) {
		constexpr size_t mib = size_t{1} << 20;
		confine({getppid(), {report}, {}, {}, 64 * mib});
		void *small = mmap(nullptr, 16 * mib, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		const std::string first = small == MAP_FAILED ? std::string("16 MiB refused") : "16 MiB mapped";
		if (small != MAP_FAILED)
			std::memset(small, 1, 16 * mib);
		void *big = mmap(nullptr, 128 * mib, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		const std::string second = big == MAP_FAILED ? std::string("128 MiB: ") + std::strerror(errno)
		                                             : std::string("128 MiB mapped");
		return first + ", " + second;
	});
	CHECK(result.report == "16 MiB mapped, 128 MiB: Cannot allocate memory");
}
