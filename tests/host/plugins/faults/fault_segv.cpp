// SPDX-License-Identifier: Apache-2.0
// Fault plugin (module 4900): method 1 writes to an inaccessible page, a real SIGSEGV.
#include "fault_module.hpp"

#include <sys/mman.h>

namespace {

class FaultSegv : public fault_plugin::FaultModule {
	fault_plugin::Status fault(fault_plugin::Output &) override
	{
		// A PROT_NONE page rather than a null pointer: a genuine fault in every
		// build, which UBSan's null check would otherwise turn into its own report.
		void *page = mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (page == MAP_FAILED)
			return fault_plugin::Status::failure;
		*static_cast<volatile int *>(page) = 1;
		return fault_plugin::Status::failure; // not reached
	}
};

} // namespace

DRPC_PLUGIN(FaultSegv, 4900, "fault_segv", "1.0.0")
