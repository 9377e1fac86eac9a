// SPDX-License-Identifier: Apache-2.0
// Isolated modules end to end: a real drpc-host running the fault plugins in
// worker processes, a bystander calling another module the whole time, and
// the listing (admin module and drpc-ctl) telling what happened.
#include "isolation_support.hpp"

#include <isolation/message_ring.hpp>
#include <worker/sandbox.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>

using namespace std::chrono_literals;
using isolation_test::Bystander;
using isolation_test::eventually;
using isolation_test::fault_plugin;
using isolation_test::IsolatedHost;
using isolation_test::status_of;

namespace {

constexpr int32_t segv_id = 4900;
constexpr int32_t abort_id = 4901;
constexpr int32_t loop_id = 4904;
constexpr int32_t leak_id = 4905;
constexpr int32_t thread_id = 4906;
constexpr int32_t fullpb_id = 4907;
constexpr int32_t fork_id = 4908;
constexpr int32_t ring_id = 4909;

std::string isolated(std::initializer_list<std::string> names, const std::string &extra = "")
{
	std::string modules = "{";
	for (const std::string &name : names) {
		if (modules.size() > 1)
			modules += ", ";
		modules += "\"" + name + "\": {\"isolation\": \"process\"" + extra + "}";
	}
	return modules + "}";
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool sanitized = true; // ASan turns a SIGSEGV into its report and an abort
#else
constexpr bool sanitized = false;
#endif

/// How many messages of `bytes` surely fill the host's socket to a worker
/// that reads nothing: its send buffer is the system's default (the link
/// sets none), which a tuned machine may have raised far past Linux's 208 KiB.
int messages_to_fill_a_socket(size_t bytes)
{
	size_t send_buffer = 212992;
	if (std::ifstream wmem("/proc/sys/net/core/wmem_default"); !(wmem >> send_buffer))
		send_buffer = 212992;
	// Twice the buffer's worth, for the kernel's own accounting, and a few over.
	return std::max<int>(16, static_cast<int>(2 * send_buffer / bytes) + 4);
}

/// Whether every thread of `pid` is stopped. kill(SIGSTOP) returns before
/// that: the group stop begins only when one of its threads takes the
/// signal, and until then the others go on serving.
bool all_threads_stopped(pid_t pid)
{
	std::error_code error;
	bool any = false;
	for (const auto &task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", error)) {
		if (!isolation_test::proc_status(std::stoi(task.path().filename().string()), "State").starts_with("T"))
			return false;
		any = true;
	}
	return any && !error;
}

/// Whether `pid` is a process that has not ended (a zombie has).
bool running(pid_t pid)
{
	const std::string state = isolation_test::proc_status(pid, "State");
	return !state.empty() && !state.starts_with("Z");
}

/// Whether a worker's cause of death says `expected`; under ASan a SIGSEGV
/// is reported and ends in abort() (or exit 1), so any death will do.
bool says(const std::string &cause, const std::string &expected)
{
	if (sanitized && expected.find("SIGSEGV") != std::string::npos)
		return cause.find("killed by signal") != std::string::npos ||
		       cause.find("exited with status") != std::string::npos;
	return cause.find(expected) != std::string::npos;
}

/// fault_fullpb's method 1: its count (field 1 of a drpc.fault.Counted,
/// read by hand: this test links only protobuf-lite); 0 when it fails.
uint64_t counted(const IsolatedHost &host, int32_t method)
{
	const drpc::Response response = host_test::call(host.socket(), fullpb_id, method, "");
	const std::string &bytes = response.body();
	if (response.status() != drpc::Status::SUCCESS || bytes.empty() || bytes[0] != 0x08)
		return 0;
	uint64_t value = 0;
	for (size_t i = 1, shift = 0; i < bytes.size() && shift < 64; ++i, shift += 7) {
		value |= uint64_t(static_cast<uint8_t>(bytes[i]) & 0x7f) << shift;
		if ((static_cast<uint8_t>(bytes[i]) & 0x80) == 0)
			break;
	}
	return value;
}

/// Serving again after a restart: method 0 echoes.
bool serves(const IsolatedHost &host, int32_t id)
{
	return eventually([&] { return status_of(host.socket(), id, 0) == drpc::Status::SUCCESS; });
}

/// A crash in call(): FAILURE for that call, the host and the bystander
/// untouched, one log line with the signal, a restart, the counters.
void check_call_crash(const std::string &name, int32_t id, const std::string &signal)
{
	IsolatedHost host({fault_plugin(name)}, isolated({name}));
	Bystander bystander(host.socket());
	REQUIRE(status_of(host.socket(), id, 0) == drpc::Status::SUCCESS);
	CHECK(host.module(id)->isolation() == "process");

	CHECK(status_of(host.socket(), id, 1) == drpc::Status::FAILURE);
	CHECK(serves(host, id));
	const auto info = host.module(id);
	REQUIRE(info);
	CHECK(info->state() == "serving");
	CHECK(info->crashes() == 1);
	CHECK(info->restarts() == 1);
	CHECK(says(info->last_cause(), signal));
	const std::string log = host.log();
	const size_t line = log.find("ERROR isolation: the worker of module " + std::to_string(id) + " (" + name);
	REQUIRE(line != std::string::npos);
	CHECK(says(log.substr(line, log.find('\n', line) - line), signal));
	CHECK(host.ctl_modules().find("last worker exit of " + std::to_string(id) + " (" + name + "): ") !=
	      std::string::npos);
	CHECK(host.alive());
	CHECK(bystander.calls() > 0);
	CHECK(bystander.stop() == 0);
	CHECK(host.stop() == 0);
}

/// A plugin that cannot get as far as serving: its file is refused, saying
/// how the worker ended, and the host serves the rest.
void check_refused(const std::string &name, const std::string &cause)
{
	IsolatedHost host({fault_plugin(name)}, isolated({name}));
	Bystander bystander(host.socket());
	const auto failures = host.failures();
	REQUIRE(failures.size() == 1);
	CHECK(failures[0].source_file().find(name) != std::string::npos);
	CHECK(says(failures[0].error(), cause));
	CHECK(host.workers().empty());
	CHECK(status_of(host.socket(), isolation_test::echo_id, 0) == drpc::Status::SUCCESS);
	CHECK(bystander.stop() == 0);
	CHECK(host.stop() == 0);
}

} // namespace

TEST_CASE("isolation: a segfault in call() costs only that call; the worker is restarted")
{
	check_call_crash("fault_segv", segv_id, "killed by signal 11 (SIGSEGV)");
}

TEST_CASE("isolation: abort() in call() costs only that call; the worker is restarted")
{
	check_call_crash("fault_abort", abort_id, "killed by signal 6 (SIGABRT)");
}

TEST_CASE("isolation: exit(3) in create() refuses the file, the host serves on")
{
	check_refused("fault_exit_create", "exited with status 3");
}

TEST_CASE("isolation: a crashing static constructor refuses the file, the host serves on")
{
	check_refused("fault_ctor", "killed by signal 11 (SIGSEGV)");
}

TEST_CASE("isolation: 5 deaths within 60 s put the module in state failed until it is reloaded")
{
	IsolatedHost host({fault_plugin("fault_segv")}, isolated({"fault_segv"}));
	Bystander bystander(host.socket());
	for (int death = 1; death <= 5; ++death) {
		REQUIRE(serves(host, segv_id));
		CHECK(status_of(host.socket(), segv_id, 1) == drpc::Status::FAILURE);
		// While it is down (or being restarted), calls are answered FAILURE
		// at once rather than queued.
	}
	REQUIRE(eventually([&] { return host.module(segv_id)->state() == "failed"; }));
	const auto info = host.module(segv_id);
	CHECK(info->crashes() == 5);
	CHECK(info->restarts() == 4);
	CHECK(says(info->last_cause(), "SIGSEGV"));
	// Failed: FAILURE without starting anything.
	CHECK(eventually([&] { return host.workers().empty(); }));
	CHECK(status_of(host.socket(), segv_id, 0) == drpc::Status::FAILURE);
	CHECK(host.workers().empty());
	const std::string listing = host.ctl_modules();
	CHECK(listing.find("failed") != std::string::npos);
	const size_t exit_line = listing.find("last worker exit of 4900 (fault_segv): ");
	REQUIRE(exit_line != std::string::npos);
	CHECK(says(listing.substr(exit_line), "killed by signal 11 (SIGSEGV)"));
	CHECK(host.log().find("5 deaths within 60 s: state failed") != std::string::npos);

	// A reload is a new generation with a fresh worker and fresh counters.
	const auto reloaded = host.reload(segv_id);
	CHECK(reloaded.ok());
	CHECK(status_of(host.socket(), segv_id, 0) == drpc::Status::SUCCESS);
	CHECK(host.module(segv_id)->state() == "serving");
	CHECK(host.module(segv_id)->crashes() == 0);
	CHECK(host.workers().size() == 1);
	CHECK(bystander.stop() == 0);
	CHECK(host.stop() == 0);
}

TEST_CASE("isolation: an endless loop past call_timeout_ms is answered FAILURE and its worker replaced")
{
	IsolatedHost host({fault_plugin("fault_loop")}, isolated({"fault_loop"}, ", \"call_timeout_ms\": 300"));
	Bystander bystander(host.socket());
	REQUIRE(status_of(host.socket(), loop_id, 0) == drpc::Status::SUCCESS);
	const auto start = std::chrono::steady_clock::now();
	CHECK(status_of(host.socket(), loop_id, 1) == drpc::Status::FAILURE);
	CHECK(std::chrono::steady_clock::now() - start < 20s); // a deadline only against hanging
	CHECK(serves(host, loop_id));
	const auto info = host.module(loop_id);
	CHECK(info->crashes() == 1);
	CHECK(info->last_cause().find("SIGKILL") != std::string::npos);
	CHECK(info->last_cause().find("call_timeout_ms (300 ms)") != std::string::npos);
	CHECK(bystander.stop() == 0);
	// Nothing spins on: SIGTERM exits 0.
	CHECK(host.stop() == 0);
}

// fault_ring.cpp scribbles where these say the rings are.
static_assert(drpc::host::isolation::MessageRing::bytes == 4096 + (size_t{256} << 10));

TEST_CASE("isolation: a plugin that scribbles on its worker's rings is killed; the host reads nothing by them")
{
	IsolatedHost host({fault_plugin("fault_ring")}, isolated({"fault_ring"}));
	Bystander bystander(host.socket());
	REQUIRE(status_of(host.socket(), ring_id, 0) == drpc::Status::SUCCESS);

	SUBCASE("the answer ring's producer position off a record's edge")
	{
		CHECK(status_of(host.socket(), ring_id, 1) == drpc::Status::FAILURE);
		CHECK(serves(host, ring_id));
		const auto info = host.module(ring_id);
		CHECK(info->crashes() == 1);
		CHECK(info->last_cause().find("its answer ring is inconsistent") != std::string::npos);
	}
	SUBCASE("the call ring's consumer position ahead of what the host pushed")
	{
		CHECK(status_of(host.socket(), ring_id, 2) == drpc::Status::SUCCESS);
		// The host's next push sees it: that call fails, the worker is replaced.
		CHECK(status_of(host.socket(), ring_id, 0) == drpc::Status::FAILURE);
		CHECK(serves(host, ring_id));
		const auto info = host.module(ring_id);
		CHECK(info->crashes() == 1);
		CHECK(info->last_cause().find("its call ring is inconsistent") != std::string::npos);
	}
	CHECK(host.log().find("inconsistent") != std::string::npos);
	CHECK(host.alive());
	CHECK(bystander.stop() == 0);
	CHECK(host.stop() == 0);
}

TEST_CASE("isolation: SIGTERM with a call stuck in an isolated module (no call_timeout_ms) stops its worker, exits 0")
{
	IsolatedHost host({fault_plugin("fault_loop")}, isolated({"fault_loop"}));
	REQUIRE(status_of(host.socket(), loop_id, 0) == drpc::Status::SUCCESS);
	auto stuck = std::async(std::launch::async, [&host] { return status_of(host.socket(), loop_id, 1); });
	CHECK(stuck.wait_for(300ms) == std::future_status::timeout); // it really is stuck
	CHECK(host.stop() == 0);
	CHECK(stuck.get() == drpc::Status::FAILURE);
	CHECK(host.log().find("stopped 1 isolated worker(s) to end them") != std::string::npos);
	CHECK(host.log().find("leaving the plugins loaded") == std::string::npos);
}

TEST_CASE("isolation: calls stuck in one isolated module do not hold up its other calls")
{
	// One link to the worker carries every call; its reader hands the link
	// over when a call runs long (link_server.hpp), so the module's calls
	// still run concurrently.
	IsolatedHost host({fault_plugin("fault_loop")}, isolated({"fault_loop"}));
	REQUIRE(status_of(host.socket(), loop_id, 0) == drpc::Status::SUCCESS);
	auto first = std::async(std::launch::async, [&host] { return status_of(host.socket(), loop_id, 1); });
	auto second = std::async(std::launch::async, [&host] { return status_of(host.socket(), loop_id, 1); });
	CHECK(first.wait_for(300ms) == std::future_status::timeout);
	CHECK(second.wait_for(0ms) == std::future_status::timeout);
	for (int i = 0; i < 20; ++i)
		CHECK(status_of(host.socket(), loop_id, 0) == drpc::Status::SUCCESS);
	CHECK(host.stop() == 0);
	CHECK(first.get() == drpc::Status::FAILURE);
	CHECK(second.get() == drpc::Status::FAILURE);
}

TEST_CASE("isolation: a leak past memory_limit_bytes fails its calls in the worker, not the host")
{
	// call_timeout_ms: under ASan, whose allocator cannot even report its
	// own failure within the limit, the worker hangs instead; the timeout
	// replaces it as it would any worker stuck in a call.
	IsolatedHost host({fault_plugin("fault_leak")},
	                  isolated({"fault_leak"}, ", \"memory_limit_bytes\": " + std::to_string(64 << 20) +
	                                                   ", \"call_timeout_ms\": 5000"));
	Bystander bystander(host.socket());
	const uint64_t host_before = host.resident_bytes();
	int failed = 0;
	for (int i = 0; i < 120 && failed == 0; ++i) {
		if (status_of(host.socket(), leak_id, 1) != drpc::Status::SUCCESS)
			++failed;
	}
	// The allocation past the budget fails: FAILURE (under ASan the worker
	// hangs, is killed at call_timeout_ms and restarted).
	CHECK(failed == 1);
	CHECK(serves(host, leak_id));
	CHECK(host.resident_bytes() < host_before + (uint64_t{32} << 20));
	CHECK(bystander.stop() == 0);
	CHECK(host.stop() == 0);
}

TEST_CASE("isolation: a thread left running after unload takes down no host")
{
	IsolatedHost host({fault_plugin("fault_thread")}, isolated({"fault_thread"}));
	Bystander bystander(host.socket());
	REQUIRE(status_of(host.socket(), thread_id, 1) == drpc::Status::SUCCESS);
	REQUIRE(host.workers().size() == 1);
	CHECK(host.unload(thread_id).ok());
	CHECK(eventually([&] { return host.workers().empty(); }));
	CHECK_FALSE(host.module(thread_id));
	std::this_thread::sleep_for(300ms); // what the left thread would need to crash a host
	CHECK(host.alive());
	CHECK(bystander.stop() == 0);
	CHECK(host.stop() == 0);
}

TEST_CASE("isolation: processes a plugin starts are stopped with its worker")
{
	IsolatedHost host({fault_plugin("fault_fork")}, isolated({"fault_fork"}));
	Bystander bystander(host.socket());
	const auto start_child = [&] {
		const drpc::Response response = host_test::call(host.socket(), fork_id, 1, "");
		REQUIRE(response.status() == drpc::Status::SUCCESS);
		const auto child = static_cast<pid_t>(std::stoi(response.body()));
		REQUIRE(running(child));
		return child;
	};
	const auto ended = [](pid_t pid) { return eventually([pid] { return !running(pid); }); };

	SUBCASE("none when it started none")
	{
		REQUIRE(host.workers().size() == 1);
		REQUIRE(::kill(host.workers()[0], SIGKILL) == 0);
		CHECK(serves(host, fork_id));
		CHECK(host.log().find("killed by signal 9") != std::string::npos);
		CHECK(host.log().find("left processes") == std::string::npos);
	}
	SUBCASE("when its worker dies")
	{
		const pid_t child = start_child();
		REQUIRE(host.workers().size() == 1);
		REQUIRE(::kill(host.workers()[0], SIGKILL) == 0);
		CHECK(ended(child));
		CHECK(eventually([&] {
			return host.log().find("left processes its plugin started: killed them") != std::string::npos;
		}));
		CHECK(serves(host, fork_id));
	}
	SUBCASE("when it is unloaded")
	{
		const pid_t child = start_child();
		CHECK(host.unload(fork_id).ok());
		CHECK(ended(child));
		CHECK(eventually([&] { return host.workers().empty(); }));
	}
	SUBCASE("when it is reloaded")
	{
		const pid_t child = start_child();
		CHECK(host.reload(fork_id).ok());
		CHECK(ended(child));
		CHECK(status_of(host.socket(), fork_id, 0) == drpc::Status::SUCCESS);
	}
	SUBCASE("when the host stops")
	{
		const pid_t child = start_child();
		CHECK(bystander.stop() == 0);
		CHECK(host.stop() == 0);
		CHECK(ended(child));
		return;
	}
	CHECK(bystander.stop() == 0);
	CHECK(host.stop() == 0);
}

TEST_CASE("isolation: a plugin that kills its whole process group kills only its worker's")
{
	IsolatedHost host({fault_plugin("fault_fork")}, isolated({"fault_fork"}));
	Bystander bystander(host.socket());
	REQUIRE(status_of(host.socket(), fork_id, 0) == drpc::Status::SUCCESS);
	CHECK(status_of(host.socket(), fork_id, 2) == drpc::Status::FAILURE);
	CHECK(host.alive());
	CHECK(serves(host, fork_id));
	const auto module = host.module(fork_id);
	REQUIRE(module);
	CHECK(module->crashes() == 1);
	CHECK(bystander.stop() == 0);
	CHECK(host.stop() == 0);
}

TEST_CASE("isolation: a full-protobuf plugin, refused in-process, runs isolated and reloads 10 times, state kept")
{
	IsolatedHost host({fault_plugin("fault_fullpb")}, isolated({"fault_fullpb"}));
	Bystander bystander(host.socket());
	REQUIRE(status_of(host.socket(), fullpb_id, 0) == drpc::Status::SUCCESS);
	REQUIRE(counted(host, 1) == 1);
	for (int reload = 0; reload < 10; ++reload) {
		const auto answer = host.reload(fullpb_id);
		REQUIRE(answer.ok());
		CHECK(answer.module().generation() == static_cast<uint64_t>(reload + 2));
		CHECK(status_of(host.socket(), fullpb_id, 0) == drpc::Status::SUCCESS);
		// The count was exported by the old worker and imported by the new one.
		CHECK(counted(host, 1) == static_cast<uint64_t>(reload + 2));
	}
	CHECK(host.log().find("state handed over") != std::string::npos);
	CHECK(eventually([&] { return host.workers().size() == 1; }));
	CHECK(bystander.stop() == 0);
	CHECK(host.stop() == 0);
}

TEST_CASE("isolation: SIGKILL of a worker in the middle of 1 MiB calls fails only the call in flight")
{
	IsolatedHost host({fault_plugin("fault_abort")}, isolated({"fault_abort"}));
	Bystander bystander(host.socket());
	const std::string big(size_t{1} << 20, 'x');
	REQUIRE(status_of(host.socket(), abort_id, 0, big) == drpc::Status::SUCCESS);
	std::atomic<bool> stop{false};
	std::atomic<int> failed{0};
	std::atomic<int> served{0};
	auto caller = std::async(std::launch::async, [&] {
		while (!stop.load()) {
			if (status_of(host.socket(), abort_id, 0, big) == drpc::Status::SUCCESS)
				++served;
			else
				++failed;
		}
	});
	REQUIRE(eventually([&] { return served.load() >= 3; }));
	const std::vector<pid_t> workers = host.workers();
	REQUIRE(workers.size() == 1);
	::kill(workers[0], SIGKILL);
	REQUIRE(eventually([&] { return failed.load() >= 1; }));
	const int served_before = served.load();
	CHECK(eventually([&] { return served.load() > served_before + 2; }));
	stop.store(true);
	caller.get();
	const auto info = host.module(abort_id);
	CHECK(info->crashes() == 1);
	CHECK(info->last_cause().find("SIGKILL") != std::string::npos);
	CHECK(bystander.stop() == 0);
	CHECK(host.stop() == 0);
}

TEST_CASE("isolation: a stopped worker whose socket fills up fails the calls waiting to send and is replaced")
{
	// No call_timeout_ms: only the link's own send deadline (10 s) frees the
	// sessions blocked sending to a worker that takes nothing.
	IsolatedHost host({fault_plugin("fault_abort")}, isolated({"fault_abort"}));
	Bystander bystander(host.socket());
	REQUIRE(status_of(host.socket(), abort_id, 0) == drpc::Status::SUCCESS);
	const std::vector<pid_t> workers = host.workers();
	REQUIRE(workers.size() == 1);
	REQUIRE(::kill(workers[0], SIGSTOP) == 0);
	REQUIRE(eventually([&] { return all_threads_stopped(workers[0]); }));
	// Too large for a ring, too small for a slot: each takes the socket.
	const std::string body(60000, 'y');
	std::vector<std::future<drpc::Status>> callers;
	const int count = messages_to_fill_a_socket(body.size());
	for (int i = 0; i < count; ++i)
		callers.push_back(
			std::async(std::launch::async, [&] { return status_of(host.socket(), abort_id, 0, body); }));
	for (auto &caller : callers) {
		REQUIRE(caller.wait_for(60s) == std::future_status::ready);
		CHECK(caller.get() == drpc::Status::FAILURE);
	}
	CHECK(serves(host, abort_id));
	const auto info = host.module(abort_id);
	CHECK(info->crashes() == 1);
	CHECK(info->last_cause().find("could not be sent") != std::string::npos);
	CHECK(bystander.stop() == 0);
	CHECK(host.stop() == 0);
}

TEST_CASE("isolation: a worker is confined, sandboxed when asked, and dies with the host")
{
	const bool sandbox = drpc::host::worker::sandbox_available();
	IsolatedHost host({fault_plugin("fault_segv")},
	                  std::string(R"({"fault_segv": {"isolation": "process", "sandbox": )") +
	                          (sandbox ? "true" : "false") + "}}");
	Bystander bystander(host.socket());
	REQUIRE(status_of(host.socket(), segv_id, 0) == drpc::Status::SUCCESS);
	const std::vector<pid_t> workers = host.workers();
	REQUIRE(workers.size() == 1);
	const pid_t worker = workers[0];
	CHECK(isolation_test::proc_status(worker, "NoNewPrivs") == "1");
	if (sandbox) {
		CHECK(isolation_test::proc_status(worker, "Seccomp") == "2");
		CHECK(host.log().find("worker fault_segv: ") != std::string::npos);
		CHECK(host.log().find("sandbox: seccomp") != std::string::npos);
	}
	// Only what it was given: the plugin copy, its sockets, pipes, its own
	// epoll and eventfds; nothing of the host's (log, plugins directory,
	// inotify, signalfd).
	for (const std::string &target : isolation_test::fd_targets_of(worker)) {
		INFO("worker descriptor: ", target);
		CHECK(target.find("host.log") == std::string::npos);
		CHECK(target.find("plugins") == std::string::npos);
		CHECK(target.find("inotify") == std::string::npos);
		CHECK(target.find("signalfd") == std::string::npos);
	}
	CHECK(bystander.stop() == 0);
	// PR_SET_PDEATHSIG: the worker goes with its host, even one killed outright.
	host.signal(SIGKILL);
	CHECK(eventually([&] {
		const std::string state = isolation_test::proc_status(worker, "State");
		return state.empty() || state.starts_with("Z");
	}));
}

TEST_CASE("isolation: an isolated module describes itself through admin DESCRIBE, as it does in-process")
{
	const std::filesystem::path kv = std::filesystem::path(DRPC_EXAMPLE_PLUGIN_DIR) / "kv.so";
	IsolatedHost in_process({kv}, "{}");
	const admin::DescribeResponse local = in_process.describe("kv");
	CHECK(in_process.stop() == 0);
	REQUIRE(local.modules_size() == 1);
	REQUIRE(local.modules(0).described());

	IsolatedHost host({kv}, isolated({"kv"}));
	const admin::DescribeResponse remote = host.describe("kv");
	REQUIRE(remote.modules_size() == 1);
	const admin::DescribedModule &module = remote.modules(0);
	CHECK(host.module(module.id())->isolation() == "process");
	CHECK(module.described());
	REQUIRE(module.methods_size() == local.modules(0).methods_size());
	for (int i = 0; i < module.methods_size(); ++i) {
		CAPTURE(i);
		CHECK(module.methods(i).name() == local.modules(0).methods(i).name());
		CHECK(module.methods(i).request_type() == local.modules(0).methods(i).request_type());
	}
	CHECK(module.descriptor_set() == local.modules(0).descriptor_set());

	CHECK(host.stop() == 0);
}

TEST_CASE("isolation: an isolated module that says nothing of itself is described as such")
{
	IsolatedHost host({fault_plugin("fault_segv")}, isolated({"fault_segv"}));
	const admin::DescribeResponse response = host.describe("fault_segv");
	REQUIRE(response.modules_size() == 1);
	CHECK(response.modules(0).id() == segv_id);
	CHECK_FALSE(response.modules(0).described());
	CHECK(response.modules(0).methods_size() == 0);
	CHECK(host.stop() == 0);
}

TEST_CASE("isolation: user and group run the worker unprivileged")
{
	const std::optional<host_test::User> user = host_test::second_user();
	if (!user) {
		MESSAGE("skipped: needs root to create and switch to drpc-test-peer");
		return;
	}
	IsolatedHost host({fault_plugin("fault_segv")},
	                  R"({"fault_segv": {"isolation": "process", "user": "drpc-test-peer", "group": )" +
	                          std::to_string(user->gid) + "}}");
	Bystander bystander(host.socket());
	// The caller is still who the plugin sees; the worker is another uid.
	REQUIRE(status_of(host.socket(), segv_id, 0) == drpc::Status::SUCCESS);
	const std::vector<pid_t> workers = host.workers();
	REQUIRE(workers.size() == 1);
	const std::string uid = std::to_string(user->uid);
	const std::string gid = std::to_string(user->gid);
	CHECK(isolation_test::proc_status(workers[0], "Uid") == uid + "\t" + uid + "\t" + uid + "\t" + uid);
	CHECK(isolation_test::proc_status(workers[0], "Gid") == gid + "\t" + gid + "\t" + gid + "\t" + gid);
	CHECK(isolation_test::proc_status(workers[0], "Groups").empty());
	// And it is still supervised: a crash is restarted as that user.
	CHECK(status_of(host.socket(), segv_id, 1) == drpc::Status::FAILURE);
	CHECK(serves(host, segv_id));
	CHECK(bystander.stop() == 0);
	CHECK(host.stop() == 0);
}

TEST_CASE("isolation: sandboxed and unprivileged at once, the worker serves small and large calls")
{
	const std::optional<host_test::User> user = host_test::second_user();
	if (!user) {
		MESSAGE("skipped: needs root to create and switch to drpc-test-peer");
		return;
	}
	// As another user, the worker gets its plugin as a sealed memfd, then
	// enters the sandbox; the shared region was mapped before either.
	IsolatedHost host({fault_plugin("fault_segv")},
	                  R"({"fault_segv": {"isolation": "process", "sandbox": true, "user": "drpc-test-peer"}})");
	INFO(host.log());
	REQUIRE(status_of(host.socket(), segv_id, 0) == drpc::Status::SUCCESS);
	REQUIRE(status_of(host.socket(), segv_id, 0, std::string(size_t{1} << 20, 'u')) == drpc::Status::SUCCESS);
	const std::vector<pid_t> workers = host.workers();
	REQUIRE(workers.size() == 1);
	const std::string uid = std::to_string(user->uid);
	CHECK(isolation_test::proc_status(workers[0], "Uid") == uid + "\t" + uid + "\t" + uid + "\t" + uid);
	CHECK(isolation_test::proc_status(workers[0], "Seccomp") == "2");
	CHECK(isolation_test::proc_status(workers[0], "NoNewPrivs") == "1");
	CHECK(host.stop() == 0);
}
