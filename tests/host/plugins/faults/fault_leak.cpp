// SPDX-License-Identifier: Apache-2.0
// Fault plugin (module 4905): each call of method 1 allocates 1 MiB, touches every page
// and never frees it; past a memory limit the allocation throws and the call fails.
#include "fault_module.hpp"

#include <atomic>
#include <cstring>
#include <new>
#include <string>

namespace {

constexpr size_t block_size = size_t{1} << 20;

/// The newest block; each block's first bytes point to the one before. The
/// chain stays reachable from this global, so the memory is never given back
/// yet LeakSanitizer does not report it when the process exits (the fault
/// is the growth, not a lost pointer).
std::atomic<void *> newest{nullptr};

class FaultLeak : public fault_plugin::FaultModule {
	fault_plugin::Status fault(fault_plugin::Output &out) override
	{
		auto *block = new char[block_size]; // throws std::bad_alloc past the limit: FAILURE
		std::memset(block, 0x5a, block_size);
		void *previous = newest.load();
		do {
			std::memcpy(block, &previous, sizeof(previous));
		} while (!newest.compare_exchange_weak(previous, block));
		const uint64_t total = leaked_.fetch_add(1) + 1;
		return out.write(std::to_string(total)) ? fault_plugin::Status::success
		                                        : fault_plugin::Status::failed_marshal;
	}

	std::atomic<uint64_t> leaked_{0}; ///< MiB leaked by this instance, the answer to method 1
};

} // namespace

DRPC_PLUGIN(FaultLeak, 4905, "fault_leak", "1.0.0")
