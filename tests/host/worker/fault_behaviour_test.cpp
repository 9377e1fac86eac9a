// SPDX-License-Identifier: Apache-2.0
// Each fault plugin does what its name says, shown in a forked child that maps it
// through the C ABI (never in the test process): it serves method 0, then faults.
#include "forked_child.hpp"

#include <confinement.hpp>

#include <drpc/plugin.h>

#include <doctest/doctest.h>

#include <csignal>
#include <dlfcn.h>
#include <fstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using worker_test::describe_status;
using worker_test::run_in_child;

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool sanitized = true; // ASan turns a SIGSEGV into its report and an abort
#else
constexpr bool sanitized = false;
#endif

/// A fault plugin mapped in this (child) process, called through the C ABI.
class Mapped {
public:
	explicit Mapped(const std::string &name)
	{
		const std::string path = std::string(DRPC_TEST_PLUGIN_DIR) + "/faults/" + name + ".so";
		library_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
		if (library_ == nullptr)
			throw std::runtime_error(dlerror());
		const auto entry = reinterpret_cast<drpc_plugin_entry_fn>(dlsym(library_, DRPC_PLUGIN_ENTRY_SYMBOL));
		plugin_ = entry();
	}

	void *create()
	{
		drpc_error error{};
		void *instance = plugin_->create("{}", 2, &error);
		if (instance == nullptr)
			throw std::runtime_error(error.message);
		return instance;
	}

	/// Status and answer of `method`, as "status:answer".
	std::string call(void *instance, int32_t method, const std::string &body = {})
	{
		drpc_call_info info{DRPC_CALL_INFO_VERSION, plugin_->info->module_id, method, 0, 0, 0, 1};
		std::string answer;
		drpc_output out{DRPC_OUTPUT_VERSION, 0, &answer, &reserve};
		const int32_t status = plugin_->call(instance, &info, reinterpret_cast<const uint8_t *>(body.data()),
		                                     body.size(), &out);
		return std::to_string(status) + ":" + answer;
	}

	std::string export_state(void *instance)
	{
		std::string state;
		drpc_output out{DRPC_OUTPUT_VERSION, 0, &state, &reserve};
		drpc_error error{};
		return plugin_->export_state(instance, &out, &error) == DRPC_STATUS_SUCCESS ? state : error.message;
	}

	bool import_state(void *instance, const std::string &state)
	{
		drpc_error error{};
		return plugin_->import_state(instance, reinterpret_cast<const uint8_t *>(state.data()), state.size(),
		                             &error) == DRPC_STATUS_SUCCESS;
	}

	void destroy(void *instance) { plugin_->destroy(instance); }
	void unmap() { (void)dlclose(library_); }

private:
	static uint8_t *reserve(void *host_data, uint64_t size)
	{
		auto *answer = static_cast<std::string *>(host_data);
		answer->assign(size, '\0');
		return reinterpret_cast<uint8_t *>(answer->data());
	}

	void *library_ = nullptr;
	const drpc_plugin *plugin_ = nullptr;
};

/// VmRSS of this process, in MiB.
long resident_mib()
{
	std::ifstream status("/proc/self/status");
	std::string line;
	while (std::getline(status, line)) {
		if (line.starts_with("VmRSS:"))
			return std::stol(line.substr(6)) / 1024;
	}
	return -1;
}

bool died_of(int status, int signal)
{
	// Under ASan a fault is reported and ends in abort() (or exit 1), not the signal.
	if (sanitized)
		return !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return WIFSIGNALED(status) && WTERMSIG(status) == signal;
}

} // namespace

TEST_CASE("fault plugins: each serves method 0 and faults on method 1")
{
	SUBCASE("fault_segv")
	{
		const auto result = run_in_child([](int report) {
			Mapped plugin("fault_segv");
			void *instance = plugin.create();
			const std::string echo = plugin.call(instance, 0, "ping");
			(void)write(report, echo.data(), echo.size()); // the report before the fault
			(void)plugin.call(instance, 1);
			return std::string(" survived");
		});
		CHECK(result.report == "0:ping");
		CHECK_MESSAGE(died_of(result.status, SIGSEGV), describe_status(result.status));
	}
	SUBCASE("fault_abort")
	{
		const auto result = run_in_child([](int report) {
			Mapped plugin("fault_abort");
			void *instance = plugin.create();
			const std::string echo = plugin.call(instance, 0, "ping");
			(void)write(report, echo.data(), echo.size());
			(void)plugin.call(instance, 1);
			return std::string(" survived");
		});
		CHECK(result.report == "0:ping");
		CHECK(describe_status(result.status) == "killed by signal 6");
	}
	SUBCASE("fault_exit_create")
	{
		const auto result = run_in_child([](int) {
			Mapped plugin("fault_exit_create");
			(void)plugin.create();
			return std::string("created");
		});
		CHECK(result.report.empty());
		CHECK(describe_status(result.status) == "exited 3");
	}
	SUBCASE("fault_ctor")
	{
		const auto result = run_in_child([](int) {
			Mapped plugin("fault_ctor");
			return std::string("mapped");
		});
		CHECK(result.report.empty());
		CHECK_MESSAGE(died_of(result.status, SIGSEGV), describe_status(result.status));
	}
	SUBCASE("fault_loop")
	{
		const auto result = run_in_child([](int report) {
			Mapped plugin("fault_loop");
			void *instance = plugin.create();
			const std::string echo = plugin.call(instance, 0, "ping");
			(void)write(report, echo.data(), echo.size());
			alarm(1); // still spinning a second later: SIGALRM ends it
			(void)plugin.call(instance, 1);
			return std::string(" returned");
		});
		CHECK(result.report == "0:ping");
		CHECK(describe_status(result.status) == "killed by signal 14");
	}
	SUBCASE("fault_leak")
	{
		const auto result = run_in_child([](int) {
			Mapped plugin("fault_leak");
			void *instance = plugin.create();
			const long before = resident_mib();
			std::string last;
			for (int i = 0; i < 32; ++i)
				last = plugin.call(instance, 1);
			plugin.destroy(instance); // what leaked stays
			return last + (resident_mib() - before >= 30 ? " grew" : " did not grow");
		});
		CHECK(result.report == "0:32 grew");
	}
	SUBCASE("fault_leak past a memory limit: the call fails, the process lives")
	{
		if (sanitized) {
			MESSAGE("ASan reports an allocation failure as fatal: not tested in this build");
			return;
		}
		const auto result = run_in_child([](int report) {
			Mapped plugin("fault_leak");
			void *instance = plugin.create();
			drpc::host::worker::confine({getppid(), {report}, {}, {}, uint64_t{64} << 20});
			int served = 0;
			while (served < 1000 && plugin.call(instance, 1).starts_with("0:"))
				++served;
			return std::to_string(served > 30 && served < 64) + " " + plugin.call(instance, 1);
		});
		CHECK(result.report == "1 2:");
	}
	SUBCASE("fault_thread")
	{
		const auto result = run_in_child([](int report) {
			Mapped plugin("fault_thread");
			void *instance = plugin.create();
			std::this_thread::sleep_for(std::chrono::milliseconds(50));
			const std::string ticks = plugin.call(instance, 1);
			const std::string line =
				ticks.starts_with("0:") && ticks != "0:0" ? "ticking" : "not ticking " + ticks;
			(void)write(report, line.data(), line.size());
			plugin.destroy(instance);
			plugin.unmap(); // the thread runs on into unmapped code
			std::this_thread::sleep_for(std::chrono::seconds(5));
			return std::string(" survived the unmap");
		});
		CHECK(result.report == "ticking");
		CHECK_MESSAGE(died_of(result.status, SIGSEGV), describe_status(result.status));
	}
	SUBCASE("fault_fullpb: counts, and hands the count over")
	{
		const auto result = run_in_child([](int) {
			Mapped plugin("fault_fullpb");
			void *old_instance = plugin.create();
			std::string out = plugin.call(old_instance, 0, "ping");
			(void)plugin.call(old_instance, 1);
			const std::string second = plugin.call(old_instance, 1);
			const std::string state = plugin.export_state(old_instance);
			plugin.destroy(old_instance);
			void *new_instance = plugin.create();
			const bool imported = plugin.import_state(new_instance, state);
			const std::string third = plugin.call(new_instance, 1);
			// A drpc.fault.Counted: field 1 (varint), field 2 the descriptor's full name.
			out += " state=" + state + (imported ? " imported" : " refused") + " " +
			       std::to_string(second.find("drpc.fault.Counted") != std::string::npos) + " count3=" +
			       std::to_string(third.size() > 4 && third[2] == '\x08' && third[3] == '\x03');
			return out + " bad-state=" + std::to_string(plugin.import_state(new_instance, "x"));
		});
		CHECK(result.report == "0:ping state=2 imported 1 count3=1 bad-state=0");
	}
}
