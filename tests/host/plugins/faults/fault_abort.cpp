// SPDX-License-Identifier: Apache-2.0
// Fault plugin (module 4901): method 1 calls abort(), SIGABRT.
#include "fault_module.hpp"

#include <cstdlib>

namespace {

class FaultAbort : public fault_plugin::FaultModule {
	fault_plugin::Status fault(fault_plugin::Output &) override { std::abort(); }
};

} // namespace

DRPC_PLUGIN(FaultAbort, 4901, "fault_abort", "1.0.0")
