// SPDX-License-Identifier: Apache-2.0
// memory_limit_bytes as a cgroup v2 memory.max, end to end in a real drpc-host:
// plugins.worker_cgroup pointed at a fake cgroup directory (this machine may
// have no delegated cgroup v2), checked for what the host and its worker
// write there, and for how each failure is reported.
#include "isolation_support.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <string>

using isolation_test::IsolatedHost;
using isolation_test::status_of;
namespace fs = std::filesystem;

namespace {

constexpr uint64_t limit = uint64_t{64} << 20;

/// echo isolated with a memory limit; its first generation is 1.
const std::string echo_limited = R"({"echo": {"isolation": "process", "memory_limit_bytes": 67108864}})";

/// A cgroup directory as the kernel shows one given to the host: the
/// memory controller offered, no process in it. The kernel creates a new
/// cgroup's files with it; the fake has them beforehand for "worker-echo.1".
struct FakeCgroup {
	host_test::TempDir dir;
	fs::path root = dir / "workers";
	fs::path worker = root / "worker-echo.1";

	FakeCgroup()
	{
		fs::create_directories(worker);
		host_test::write_file(root / "cgroup.controllers", "cpu memory pids\n");
		host_test::write_file(root / "cgroup.subtree_control", "");
		host_test::write_file(root / "cgroup.procs", "");
		host_test::write_file(worker / "memory.max", "max\n");
		host_test::write_file(worker / "memory.events", "oom 0\noom_kill 0\n");
	}

	[[nodiscard]] std::string key() const { return ", \"worker_cgroup\": \"" + root.string() + "\""; }
};

} // namespace

TEST_CASE("isolation cgroup: a worker with memory_limit_bytes is in its own cgroup, memory.max set, before it loads")
{
	FakeCgroup cgroup;
	host_test::write_file(cgroup.worker / "cgroup.procs", "");
	IsolatedHost host({}, echo_limited, cgroup.key());
	REQUIRE(status_of(host.socket(), isolation_test::echo_id, 0) == drpc::Status::SUCCESS);
	CHECK(host_test::read_file(cgroup.root / "cgroup.subtree_control") == "+memory");
	CHECK(host_test::read_file(cgroup.worker / "memory.max") == std::to_string(limit));
	// Written by the worker itself between fork and exec: its pid, the one
	// the host knows it by (the exec keeps it).
	REQUIRE(host.workers().size() == 1);
	CHECK(host_test::read_file(cgroup.worker / "cgroup.procs") == std::to_string(host.workers()[0]));
	CHECK(host.log().find("a cgroup v2 memory.max per worker, under " + cgroup.root.string()) != std::string::npos);
	CHECK(host.stop() == 0);
	// A real cgroup is removed with its files; the fake one cannot be, which
	// shows the host tried, and how it says so.
	CHECK(host.log().find("stays behind: rmdir " + cgroup.worker.string()) != std::string::npos);
}

TEST_CASE("isolation cgroup: a worker that cannot join its cgroup is refused, saying where and why")
{
	FakeCgroup cgroup;
	fs::create_symlink("/dev/full", cgroup.worker / "cgroup.procs"); // every write: ENOSPC
	IsolatedHost host({}, echo_limited, cgroup.key());
	const auto failures = host.failures();
	REQUIRE(failures.size() == 1);
	CHECK(failures[0].source_file().find("echo") != std::string::npos);
	const std::string &error = failures[0].error();
	CHECK_MESSAGE(error.find("joining its cgroup: writing its pid to " + (cgroup.worker / "cgroup.procs").string() +
	                         ": No space left on device (errno 28)") != std::string::npos,
	              error);
	CHECK(host.workers().empty());
	CHECK(host.stop() == 0);
}

TEST_CASE("isolation cgroup: an unusable plugins.worker_cgroup refuses the limited module only")
{
	FakeCgroup cgroup;
	SUBCASE("a process inside: the no-internal-process rule")
	{
		host_test::write_file(cgroup.root / "cgroup.procs", "4242\n");
		IsolatedHost host({}, echo_limited, cgroup.key());
		const auto failures = host.failures();
		REQUIRE(failures.size() == 1);
		CHECK_MESSAGE(failures[0].error().find("plugins.worker_cgroup " + cgroup.root.string() +
		                                       ": unavailable: " + cgroup.root.string() +
		                                       " also holds process 4242") != std::string::npos,
		              failures[0].error());
		CHECK(host.stop() == 0);
	}
	SUBCASE("no memory controller offered")
	{
		host_test::write_file(cgroup.root / "cgroup.controllers", "cpu pids\n");
		// Another module, isolated without a limit, needs no cgroup and serves.
		IsolatedHost host({}, R"({"echo": {"isolation": "process"}})", cgroup.key());
		CHECK(host.failures().empty());
		CHECK(status_of(host.socket(), isolation_test::echo_id, 0) == drpc::Status::SUCCESS);
		CHECK(host.stop() == 0);
	}
}

TEST_CASE("isolation cgroup: off, or auto where the host may not make cgroups, leaves RLIMIT_DATA alone")
{
	SUBCASE("off")
	{
		IsolatedHost host({}, echo_limited, R"(, "worker_cgroup": "off")");
		CHECK(status_of(host.socket(), isolation_test::echo_id, 0) == drpc::Status::SUCCESS);
		CHECK(host.log().find("RLIMIT_DATA only, no cgroup v2 memory.max: off (plugins.worker_cgroup)") !=
		      std::string::npos);
		CHECK(host.stop() == 0);
	}
	SUBCASE("auto, the host sharing its cgroup with this test")
	{
		// The test and the host it starts share a cgroup, so "auto" may
		// never move the host: it serves on RLIMIT_DATA and says why.
		IsolatedHost host({}, echo_limited);
		CHECK(status_of(host.socket(), isolation_test::echo_id, 0) == drpc::Status::SUCCESS);
		CHECK(host.log().find("RLIMIT_DATA only, no cgroup v2 memory.max: unavailable: ") != std::string::npos);
		CHECK(host.stop() == 0);
	}
}
