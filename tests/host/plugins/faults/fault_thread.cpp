// SPDX-License-Identifier: Apache-2.0
// Fault plugin (module 4906): create() starts a thread that destroy() leaves running, so
// unmapping the library pulls its code from under that thread; method 1 answers its ticks.
// Method 2 starts a thread inside the call, as a plugin may, and answers how many CPUs the
// thread serving the call may use and how many the started one may: "<serving> <started>".
#include "fault_module.hpp"

#include <atomic>
#include <chrono>
#include <sched.h>
#include <string>
#include <thread>

namespace {

/// Outlives every instance on purpose: the thread reads it after destroy().
std::atomic<uint64_t> ticks{0};

class FaultThread : public fault_plugin::FaultModule {
public:
	FaultThread()
	{
		std::thread([] {
			for (;;) {
				ticks.fetch_add(1);
				std::this_thread::sleep_for(std::chrono::milliseconds(1));
			}
		}).detach(); // the fault: nothing ever stops it
	}

	fault_plugin::Status call(const fault_plugin::CallContext &context, std::span<const uint8_t> body,
	                          fault_plugin::Output &out) override
	{
		if (context.method != 2)
			return FaultModule::call(context, body, out);
		int started = 0;
		std::thread([&started] { started = allowed_cpus(); }).join();
		return out.write(std::to_string(allowed_cpus()) + " " + std::to_string(started))
		               ? fault_plugin::Status::success
		               : fault_plugin::Status::failed_marshal;
	}

private:
	static int allowed_cpus()
	{
		cpu_set_t set;
		return ::sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : -1;
	}

	fault_plugin::Status fault(fault_plugin::Output &out) override
	{
		return out.write(std::to_string(ticks.load())) ? fault_plugin::Status::success
		                                               : fault_plugin::Status::failed_marshal;
	}
};

} // namespace

DRPC_PLUGIN(FaultThread, 4906, "fault_thread", "1.0.0")
