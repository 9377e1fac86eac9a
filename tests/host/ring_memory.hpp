// SPDX-License-Identifier: Apache-2.0
/// @file ring_memory.hpp
/// A message ring's memory for tests: shared anonymous memory, as the memfd
/// is (visible to a forked child), with the control page's words at hand as
/// the other side could write them.
#pragma once

#include <isolation/message_ring.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <span>
#include <sys/mman.h>

namespace ring_test {

class RingMemory {
public:
	RingMemory()
	{
		void *base = ::mmap(nullptr, drpc::host::isolation::MessageRing::bytes, PROT_READ | PROT_WRITE,
		                    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		REQUIRE(base != MAP_FAILED);
		base_ = static_cast<uint8_t *>(base);
	}
	~RingMemory() { ::munmap(base_, drpc::host::isolation::MessageRing::bytes); }
	RingMemory(const RingMemory &) = delete;
	RingMemory &operator=(const RingMemory &) = delete;

	[[nodiscard]] std::span<uint8_t> span() const { return {base_, drpc::host::isolation::MessageRing::bytes}; }
	uint64_t &head() const { return *reinterpret_cast<uint64_t *>(base_); }
	uint64_t &tail() const { return *reinterpret_cast<uint64_t *>(base_ + 64); }
	uint32_t &doorbell() const { return *reinterpret_cast<uint32_t *>(base_ + 128); }
	uint8_t *data() const { return base_ + drpc::host::isolation::MessageRing::control_bytes; }

private:
	uint8_t *base_ = nullptr;
};

} // namespace ring_test
