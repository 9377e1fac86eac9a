// SPDX-License-Identifier: Apache-2.0
// A relayed call runs on its caller's CPU: the worker thread that served it
// stays on the CPU of the host thread that relayed it, and no host thread is
// left held on one CPU after its call.
#include "isolation_support.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

using isolation_test::IsolatedHost;
using isolation_test::proc_status;
using isolation_test::status_of;

namespace {

/// Cpus_allowed_list of each thread of `pid`.
std::vector<std::string> thread_cpus(pid_t pid)
{
	std::vector<std::string> lists;
	for (const auto &task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task"))
		lists.push_back(proc_status(static_cast<pid_t>(std::stoi(task.path().filename().string())),
		                            "Cpus_allowed_list"));
	return lists;
}

bool one_cpu(const std::string &list) { return !list.empty() && list.find_first_of(",-") == std::string::npos; }

} // namespace

TEST_CASE("isolation: a call runs on the CPU of the host thread that relays it, which gets its CPUs back")
{
	IsolatedHost host({}, R"({"echo": {"isolation": "process"}})");
	const std::string host_cpus = proc_status(host.pid(), "Cpus_allowed_list");
	if (one_cpu(host_cpus)) {
		MESSAGE("one CPU (", host_cpus, "): every call runs there anyway");
		return;
	}
	for (int call = 0; call < 20; ++call)
		REQUIRE(status_of(host.socket(), isolation_test::echo_id, 0) == drpc::Status::SUCCESS);
	const std::vector<pid_t> workers = host.workers();
	REQUIRE(workers.size() == 1);

	size_t placed = 0;
	for (const std::string &list : thread_cpus(workers[0]))
		placed += one_cpu(list) ? 1 : 0;
	CHECK(placed >= 1);
	for (const std::string &list : thread_cpus(host.pid())) {
		INFO("host thread on CPUs ", list, ", the host's are ", host_cpus);
		CHECK(list == host_cpus);
	}
	CHECK(host.stop() == 0);
}
