// SPDX-License-Identifier: Apache-2.0
// Fault plugin (module 4908): method 1 forks a child that never ends, as a plugin running a
// helper (system(), popen()) may, and answers its pid. Nothing of the plugin ever stops it, so
// it would outlive the worker that started it. Method 2 sends SIGKILL to its whole process
// group (kill(0, ...)), which must never be the host's.
#include "fault_module.hpp"

#include <csignal>
#include <string>
#include <unistd.h>

namespace {

class FaultFork : public fault_plugin::FaultModule {
public:
	fault_plugin::Status call(const fault_plugin::CallContext &context, std::span<const uint8_t> body,
	                          fault_plugin::Output &out) override
	{
		if (context.method == 2)
			::kill(0, SIGKILL);
		return FaultModule::call(context, body, out);
	}

private:
	fault_plugin::Status fault(fault_plugin::Output &out) override
	{
		const pid_t child = ::fork();
		if (child == 0) {
			for (;;)
				::pause();
		}
		if (child < 0)
			return fault_plugin::Status::failure;
		return out.write(std::to_string(child)) ? fault_plugin::Status::success
		                                        : fault_plugin::Status::failed_marshal;
	}
};

} // namespace

DRPC_PLUGIN(FaultFork, 4908, "fault_fork", "1.0.0")
