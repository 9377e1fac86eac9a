// SPDX-License-Identifier: Apache-2.0
// Worker cgroups: every "unavailable" reason on fake cgroup trees, the whole set-up
// on a fake delegated tree, and on this machine's real cgroup v2 when it is delegated.
#include "forked_child.hpp"

#include <temp_dir.hpp>
#include <worker_cgroup.hpp>

#include <doctest/doctest.h>

#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

using drpc::host::worker::adopt_worker_cgroups;
using drpc::host::worker::CgroupSources;
using drpc::host::worker::CgroupSupport;
using drpc::host::worker::prepare_worker_cgroups;
using drpc::host::worker::WorkerCgroup;
namespace fs = std::filesystem;

namespace {

void write(const fs::path &path, const std::string &text)
{
	fs::create_directories(path.parent_path());
	std::ofstream(path) << text;
}

std::string read(const fs::path &path)
{
	std::ifstream in(path);
	std::ostringstream text;
	text << in.rdbuf();
	return text.str();
}

/// A fake cgroup2 mount at <dir>/cgroup with this process in /svc, as the
/// kernel would present it (interface files exist beforehand).
struct FakeTree {
	test_support::TempDir dir;
	CgroupSources sources{dir / "self_cgroup", dir / "mountinfo", 4242};
	fs::path service = dir / "cgroup" / "svc";

	FakeTree()
	{
		write(sources.self_cgroup, "1:name=systemd:/svc\n0::/svc\n");
		write(sources.mountinfo, "22 1 0:20 / /proc rw - proc proc rw\n"
		                         "31 23 0:28 / " +
		                                 (dir / "cgroup").string() +
		                                 " rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate\n");
		write(service / "cgroup.controllers", "cpu io memory pids\n");
		write(service / "cgroup.subtree_control", "");
		write(service / "cgroup.procs", "4242\n");
		write(service / "drpc-host" / "cgroup.procs", "");
	}
};

} // namespace

TEST_CASE("worker cgroup: unavailable, and why")
{
	FakeTree tree;
	SUBCASE("cgroup v1 only")
	{
		write(tree.sources.self_cgroup, "4:memory:/x\n1:name=systemd:/x\n");
		CHECK(prepare_worker_cgroups(tree.sources).unavailable.find("no cgroup v2 entry (0::)") !=
		      std::string::npos);
	}
	SUBCASE("no cgroup2 mount")
	{
		write(tree.sources.mountinfo, "22 1 0:20 / /proc rw - proc proc rw\n");
		CHECK(prepare_worker_cgroups(tree.sources).unavailable.find("no cgroup2 filesystem mounted") !=
		      std::string::npos);
	}
	SUBCASE("no memory controller")
	{
		write(tree.service / "cgroup.controllers", "hugetlb\n");
		const CgroupSupport support = prepare_worker_cgroups(tree.sources);
		CHECK_FALSE(support);
		CHECK(support.unavailable.find("the memory controller is not offered to " + tree.service.string()) !=
		      std::string::npos);
	}
	SUBCASE("another process shares the cgroup: the no-internal-process rule")
	{
		write(tree.service / "cgroup.procs", "4242\n777\n");
		const CgroupSupport support = prepare_worker_cgroups(tree.sources);
		CHECK(support.unavailable.find("also holds process 777") != std::string::npos);
		CHECK(read(tree.service / "drpc-host" / "cgroup.procs").empty()); // nobody moved
	}
	SUBCASE("not delegated (not writable)")
	{
		if (geteuid() == 0) {
			MESSAGE("root writes anywhere: not-writable case not tested");
			return;
		}
		fs::permissions(tree.service / "cgroup.subtree_control", fs::perms::owner_read);
		CHECK(prepare_worker_cgroups(tree.sources).unavailable.find("is not delegated") != std::string::npos);
	}
	SUBCASE("an unavailable support makes no worker cgroup")
	{
		CHECK_THROWS_WITH_AS(WorkerCgroup(CgroupSupport{{}, "unavailable: test"}, "echo", {}),
		                     "worker cgroup: unavailable: test", std::invalid_argument);
	}
}

TEST_CASE("worker cgroup: set up on a delegated tree")
{
	FakeTree tree;
	const CgroupSupport support = prepare_worker_cgroups(tree.sources);
	REQUIRE_MESSAGE(support, support.unavailable);
	CHECK(support.directory == tree.service);
	CHECK(read(tree.service / "drpc-host" / "cgroup.procs") == "4242"); // the host left its cgroup
	CHECK(read(tree.service / "cgroup.subtree_control") == "+memory");

	// The kernel creates a cgroup's files with it; the fake does so beforehand.
	write(tree.service / "worker-echo" / "memory.max", "max");
	write(tree.service / "worker-echo" / "cgroup.procs", "");
	write(tree.service / "worker-echo" / "memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n");
	WorkerCgroup cgroup(support, "echo", 32u << 20);
	CHECK(cgroup.directory() == tree.service / "worker-echo");
	CHECK(read(cgroup.directory() / "memory.max") == std::to_string(32u << 20));
	cgroup.add(5151);
	CHECK(read(cgroup.directory() / "cgroup.procs") == "5151");
	CHECK(cgroup.oom_kills() == 2);
	// A real cgroup directory is removable with its files; a fake one is not,
	// which shows how a failure reads.
	CHECK(cgroup.remove() == "rmdir " + cgroup.directory().string() + ": Directory not empty");

	SUBCASE("a host restarted inside drpc-host finds its cgroup again")
	{
		write(tree.sources.self_cgroup, "0::/svc/drpc-host\n");
		CHECK(prepare_worker_cgroups(tree.sources).directory == tree.service);
	}
	SUBCASE("bad names are refused")
	{
		for (const char *name : {"", "..", "a/b", "a b"})
			CHECK_THROWS_AS(WorkerCgroup(support, name, {}), std::invalid_argument);
	}
	SUBCASE("memory.max that cannot be written names the file")
	{
		CHECK_THROWS_WITH(WorkerCgroup(support, "missing", 1), doctest::Contains("worker-missing/memory.max"));
	}
}

TEST_CASE("worker cgroup: a directory given to the host (plugins.worker_cgroup)")
{
	FakeTree tree;
	const fs::path given = tree.dir / "cgroup" / "given";
	write(given / "cgroup.controllers", "memory pids\n");
	write(given / "cgroup.subtree_control", "");
	write(given / "cgroup.procs", "");
	SUBCASE("usable: +memory enabled, nobody moved")
	{
		const CgroupSupport support = adopt_worker_cgroups(given);
		REQUIRE_MESSAGE(support, support.unavailable);
		CHECK(support.directory == given);
		CHECK(read(given / "cgroup.subtree_control") == "+memory");
		CHECK(read(tree.service / "cgroup.procs") == "4242\n");
	}
	SUBCASE("refused, and why")
	{
		CHECK(adopt_worker_cgroups("relative/dir").unavailable ==
		      "unavailable: relative/dir is not an absolute path");
		write(given / "cgroup.procs", "77\n");
		CHECK(adopt_worker_cgroups(given).unavailable.find(given.string() + " also holds process 77") !=
		      std::string::npos);
		write(given / "cgroup.controllers", "pids\n");
		CHECK(adopt_worker_cgroups(given).unavailable.find("the memory controller is not offered") !=
		      std::string::npos);
		CHECK(adopt_worker_cgroups(tree.dir / "none")
		              .unavailable.find("cgroup.controllers: not a cgroup v2 directory") != std::string::npos);
	}
}

TEST_CASE("worker cgroup: on this machine, a worker over memory.max is killed")
{
	// In a child, because a delegated set-up moves the calling process.
	const auto result = worker_test::run_in_child([](int) {
		const CgroupSupport support = prepare_worker_cgroups();
		if (!support)
			return support.unavailable;
		WorkerCgroup cgroup(support, "cgroup-test-" + std::to_string(getpid()), 32u << 20);
		int moved[2];
		if (pipe(moved) != 0)
			return std::string("pipe failed");
		const pid_t worker = fork();
		if (worker == 0) {
			char byte = 0;
			(void)read(moved[0], &byte, 1); // until the parent has moved us
			constexpr size_t size = size_t{256} << 20;
			void *memory = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (memory != MAP_FAILED)
				std::memset(memory, 1, size);
			_exit(0);
		}
		cgroup.add(worker);
		(void)::write(moved[1], "m", 1);
		int status = 0;
		waitpid(worker, &status, 0);
		return worker_test::describe_status(status) + " oom_kill=" + std::to_string(cgroup.oom_kills()) +
		       " remove=" + cgroup.remove();
	});
	if (result.report.starts_with("unavailable: ")) {
		MESSAGE("cgroup v2 memory limit not tested: " << result.report);
		CHECK(result.report.size() > 13); // a reason, not just the word
		return;
	}
	CHECK(result.report == "killed by signal 9 oom_kill=1 remove=");
}
