// SPDX-License-Identifier: Apache-2.0
// Fault plugin (module 4904): method 1 spins on a CPU forever and never returns.
#include "fault_module.hpp"

#include <cstdint>

namespace {

class FaultLoop : public fault_plugin::FaultModule {
	fault_plugin::Status fault(fault_plugin::Output &) override
	{
		// volatile: a loop without side effects may be assumed to end.
		volatile uint64_t spins = 0;
		for (;;)
			spins = spins + 1;
	}
};

} // namespace

DRPC_PLUGIN(FaultLoop, 4904, "fault_loop", "1.0.0")
