// SPDX-License-Identifier: Apache-2.0
// Fault plugin (module 4909): scribbles on the message rings its worker
// shares with the host (host/isolation/message_ring.hpp), as any plugin
// code in a worker can. Method 1 puts the answer ring's producer position
// off a record's edge and rings the host's doorbell; method 2 moves the
// call ring's consumer position ahead of what the host pushed. The host
// must catch either before it reads or writes a byte by it, and kill the
// worker.
#include "fault_module.hpp"

#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>

namespace {

// The region's layout (shared_region.hpp, message_ring.hpp; the test checks
// these against the host's own constants): the call ring, then the answer
// ring, each a 4096-byte control page (producer position, consumer position
// and doorbell, 64 bytes apart) and 256 KiB of messages.
constexpr size_t ring_bytes = 4096 + (size_t{256} << 10);
constexpr size_t head_offset = 0;
constexpr size_t tail_offset = 64;
constexpr size_t doorbell_offset = 128;

/// Where this worker's region is mapped; null when not found.
uint8_t *find_region()
{
	FILE *maps = std::fopen("/proc/self/maps", "r");
	if (maps == nullptr)
		return nullptr;
	char line[512];
	uint8_t *found = nullptr;
	while (found == nullptr && std::fgets(line, sizeof(line), maps) != nullptr) {
		unsigned long start = 0;
		unsigned long long offset = 0;
		if (std::strstr(line, "drpc-region:") != nullptr &&
		    std::sscanf(line, "%lx-%*x %*s %llx", &start, &offset) == 2 && offset == 0)
			found = reinterpret_cast<uint8_t *>(start);
	}
	std::fclose(maps);
	return found;
}

class FaultRing : public fault_plugin::FaultModule {
public:
	fault_plugin::Status call(const fault_plugin::CallContext &context, std::span<const uint8_t> body,
	                          fault_plugin::Output &out) override
	{
		if (context.method != 2)
			return FaultModule::call(context, body, out);
		uint8_t *region = find_region();
		if (region == nullptr)
			return fault_plugin::Status::failure;
		auto &consumed = *reinterpret_cast<volatile uint64_t *>(region + tail_offset);
		consumed = consumed + 4096; // past anything the host has pushed
		return fault_plugin::Status::success;
	}

protected:
	fault_plugin::Status fault(fault_plugin::Output &) override
	{
		uint8_t *region = find_region();
		if (region == nullptr)
			return fault_plugin::Status::failure;
		uint8_t *answers = region + ring_bytes;
		auto &produced = *reinterpret_cast<volatile uint64_t *>(answers + head_offset);
		auto &doorbell = *reinterpret_cast<uint32_t *>(answers + doorbell_offset);
		// Off a record's edge, and the host woken to read it; held there
		// while the host looks (this worker's own next answer would put
		// the position right again).
		produced = produced + 12;
		__atomic_store_n(&doorbell, 0, __ATOMIC_SEQ_CST);
		(void)::syscall(SYS_futex, &doorbell, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
		std::this_thread::sleep_for(std::chrono::seconds(5));
		return fault_plugin::Status::failure;
	}
};

} // namespace

DRPC_PLUGIN(FaultRing, 4909, "fault_ring", "1.0.0")
