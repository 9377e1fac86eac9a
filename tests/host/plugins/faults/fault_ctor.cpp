// SPDX-License-Identifier: Apache-2.0
// Fault plugin (module 4903): a static constructor segfaults while the library is mapped,
// before the entry can be read, so it can never serve.
#include "fault_module.hpp"

#include <csignal>
#include <sys/mman.h>

namespace {

__attribute__((constructor)) void crash_on_load()
{
	void *page = mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		std::raise(SIGSEGV);
	*static_cast<volatile int *>(page) = 1;
}

class FaultCtor : public fault_plugin::FaultModule {
	fault_plugin::Status fault(fault_plugin::Output &) override { return fault_plugin::Status::failure; }
};

} // namespace

DRPC_PLUGIN(FaultCtor, 4903, "fault_ctor", "1.0.0")
