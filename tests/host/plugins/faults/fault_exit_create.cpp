// SPDX-License-Identifier: Apache-2.0
// Fault plugin (module 4902): create() calls exit(3), so the process ends before it serves.
#include "fault_module.hpp"

#include <cstdlib>

namespace {

class FaultExitCreate : public fault_plugin::FaultModule {
public:
	FaultExitCreate() { std::exit(3); }

private:
	fault_plugin::Status fault(fault_plugin::Output &) override { return fault_plugin::Status::failure; }
};

} // namespace

DRPC_PLUGIN(FaultExitCreate, 4902, "fault_exit_create", "1.0.0")
