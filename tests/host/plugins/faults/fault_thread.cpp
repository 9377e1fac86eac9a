// SPDX-License-Identifier: Apache-2.0
// Fault plugin (module 4906): create() starts a thread that destroy() leaves running, so
// unmapping the library pulls its code from under that thread; method 1 answers its ticks.
#include "fault_module.hpp"

#include <atomic>
#include <chrono>
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

private:
	fault_plugin::Status fault(fault_plugin::Output &out) override
	{
		return out.write(std::to_string(ticks.load())) ? fault_plugin::Status::success
		                                               : fault_plugin::Status::failed_marshal;
	}
};

} // namespace

DRPC_PLUGIN(FaultThread, 4906, "fault_thread", "1.0.0")
