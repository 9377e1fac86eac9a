// SPDX-License-Identifier: Apache-2.0
/// @file shared_region.hpp
/// Memory that the host and one worker both map, so that a large call body
/// and a large answer cross between them without going through the socket:
/// through the socket each costs two kernel copies (into the socket, out of
/// it); through the region, one copy by the host on the way in and one on
/// the way out, while the plugin reads the call and writes its answer in
/// place.
///
/// The same memory carries the two message rings (message_ring.hpp) small
/// messages cross in instead of the socket.
///
/// The region is a memfd of the rings and slot_count slots, each a call area and an
/// answer area of area_bytes. The host creates it for each worker process
/// and seals it against shrinking and growing before the worker exists: a
/// worker that could shrink it would turn the host's next read of an answer
/// into a SIGBUS. A slot serves one call at a time (the host's
/// WorkerLink hands them out); the call's relay header names its
/// slot, and the answer's header says whether its bytes are in the slot.
///
/// What the worker writes in the region is as untrusted as what it sends on
/// the socket: the host reads an answer's length from the socket, checks it
/// against area_bytes and copies the bytes out once, never reading them twice.
#pragma once

#include "message_ring.hpp"

#include <drpc/unique_fd.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace drpc::host::isolation {

class SharedRegion {
public:
	/// Calls at once that can use the region; more run through the socket.
	static constexpr uint32_t slot_count = 4;
	/// The largest call body, and the largest answer, that a slot holds;
	/// larger ones run through the socket. With slot_count, this bounds the
	/// memory the region keeps once touched (16 MiB, shared by the host and
	/// the worker), until the worker is replaced.
	static constexpr size_t area_bytes = size_t{2} << 20;
	/// Smaller bodies go through the socket: for them the two kernel copies
	/// cost less than touching more of the region's pages.
	static constexpr size_t min_body_bytes = size_t{64} << 10;
	/// The two message rings in front of the slots.
	static constexpr size_t rings_bytes = 2 * MessageRing::bytes;
	/// The memfd's size: the rings, then slot_count slots of a call and an
	/// answer area.
	static constexpr size_t total_bytes = rings_bytes + size_t{slot_count} * 2 * area_bytes;

	/// The host's side: a new sealed memfd (pages are only used once
	/// touched), mapped. Throws drpc::SystemError naming the step.
	[[nodiscard]] static SharedRegion create(const std::string &name);
	/// The worker's side: maps the memfd at `fd`, which must be total_bytes
	/// long and sealed as create() seals it, then closes `fd`. Throws
	/// drpc::Error saying what is wrong with it.
	[[nodiscard]] static SharedRegion adopt(int fd);

	SharedRegion(SharedRegion &&other) noexcept;
	SharedRegion &operator=(SharedRegion &&other) noexcept;
	SharedRegion(const SharedRegion &) = delete;
	SharedRegion &operator=(const SharedRegion &) = delete;
	~SharedRegion();

	/// The memfd, for the worker to inherit; -1 once closed.
	[[nodiscard]] int fd() const noexcept { return fd_.get(); }
	/// The host closes the memfd once its worker has it: the mapping stays.
	void close_fd() noexcept { fd_.reset(); }
	/// The memory of the ring the host's calls cross in, and of the one
	/// the worker's answers cross in (message_ring.hpp).
	[[nodiscard]] std::span<uint8_t> call_ring() const noexcept { return {base_, MessageRing::bytes}; }
	[[nodiscard]] std::span<uint8_t> answer_ring() const noexcept
	{
		return {base_ + MessageRing::bytes, MessageRing::bytes};
	}
	/// Where slot `slot` (< slot_count) takes a call body, and its answer.
	[[nodiscard]] std::span<uint8_t> call_area(uint32_t slot) const noexcept;
	[[nodiscard]] std::span<uint8_t> answer_area(uint32_t slot) const noexcept;
	/// Frees the pages of slot `slot` (both areas) in every mapping; they
	/// read as zeros again. Only for a slot no call holds.
	void release(uint32_t slot) const noexcept;

private:
	SharedRegion(drpc::UniqueFd fd, uint8_t *base) noexcept : fd_(std::move(fd)), base_(base) {}

	drpc::UniqueFd fd_;
	uint8_t *base_ = nullptr;
};

} // namespace drpc::host::isolation
