// SPDX-License-Identifier: Apache-2.0
// A relayed call runs on its caller's CPU: the worker thread that served it
// stays on the CPU of the host thread that relayed it, no host thread is left
// held on one CPU after its call, and a thread a plugin starts inside such a
// call is not held there either.
#include "isolation_support.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <sched.h>
#include <sstream>
#include <string>
#include <vector>

using isolation_test::fault_plugin;
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

TEST_CASE("isolation: a thread a plugin starts inside a placed call may use all of the worker's CPUs")
{
	constexpr int32_t thread_id = 4906; // fault_thread: method 2 starts a thread in the call
	IsolatedHost host({fault_plugin("fault_thread")}, R"({"fault_thread": {"isolation": "process"}})");
	const std::string host_cpus = proc_status(host.pid(), "Cpus_allowed_list");
	if (one_cpu(host_cpus)) {
		MESSAGE("one CPU (", host_cpus, "): every thread runs there anyway");
		return;
	}
	int host_cpu_count = 0;
	{
		cpu_set_t set;
		REQUIRE(::sched_getaffinity(host.pid(), sizeof(set), &set) == 0);
		host_cpu_count = CPU_COUNT(&set);
	}
	size_t placed_calls = 0;
	for (int call = 0; call < 20; ++call) {
		const drpc::Response response = host_test::call(host.socket(), thread_id, 2, "");
		REQUIRE(response.status() == drpc::Status::SUCCESS);
		std::istringstream answer(response.body());
		int serving = 0, started = 0;
		answer >> serving >> started;
		REQUIRE_MESSAGE(!answer.fail(), response.body());
		INFO("call ", call, ": served on ", serving, " CPUs, started a thread on ", started, " of ",
		     host_cpu_count);
		placed_calls += serving == 1 ? 1 : 0;
		CHECK(started == host_cpu_count);
	}
	// Else the case above proves nothing: no call was held on one CPU.
	CHECK(placed_calls >= 1);
	CHECK(host.stop() == 0);
}
