// SPDX-License-Identifier: Apache-2.0
// Fault plugin (module 4908): method 1 forks a child that never ends, as a plugin running a
// helper (system(), popen()) may, and answers its pid. Nothing of the plugin ever stops it, so
// it would outlive the worker that started it.
#include "fault_module.hpp"

#include <string>
#include <unistd.h>

namespace {

class FaultFork : public fault_plugin::FaultModule {
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
