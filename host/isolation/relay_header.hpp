// SPDX-License-Identifier: Apache-2.0
/// @file relay_header.hpp
/// What the host puts in front of each call's body when it forwards the call
/// to an isolated module's worker: the original caller and sequence, which
/// the plugin sees in its drpc_call_info as it would in-process, and the
/// shared region's slot (shared_region.hpp) the call may use; and what the
/// worker puts in front of a successful answer: where its bytes are.
#pragma once

#include <drpc/module.hpp>

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

namespace drpc::host::isolation {

/// "DRW3": tells a forwarded body from anything else sent to a worker.
inline constexpr uint32_t relay_magic = 0x33575244;
/// RelayHeader::slot when the call has no slot of the shared region.
inline constexpr uint32_t no_slot = UINT32_MAX;

struct RelayHeader {
	uint32_t magic = relay_magic;
	int32_t peer_pid = 0;
	uint32_t peer_uid = 0;
	uint32_t peer_gid = 0;
	int64_t sequence = 0;
	/// The slot the worker may answer in, or no_slot.
	uint32_t slot = no_slot;
	/// Bytes of the call's body in the slot's call area (then nothing
	/// follows the header); zero when the body follows the header.
	uint32_t body_in_slot = 0;
	uint32_t reserved[2] = {0, 0};
};
static_assert(sizeof(RelayHeader) == 40, "RelayHeader must be 40 bytes, unpadded");

/// The header's bytes for the call `context` (in this host's byte order:
/// both ends run the same binary on the same machine).
[[nodiscard]] inline std::array<uint8_t, sizeof(RelayHeader)> encode_relay_header(const CallContext &context,
                                                                                  uint32_t slot = no_slot,
                                                                                  uint32_t body_in_slot = 0) noexcept
{
	const RelayHeader header{
		.magic = relay_magic,
		.peer_pid = static_cast<int32_t>(context.peer.pid),
		.peer_uid = static_cast<uint32_t>(context.peer.uid),
		.peer_gid = static_cast<uint32_t>(context.peer.gid),
		.sequence = context.sequence,
		.slot = slot,
		.body_in_slot = body_in_slot,
	};
	std::array<uint8_t, sizeof(RelayHeader)> bytes{};
	std::memcpy(bytes.data(), &header, sizeof(header));
	return bytes;
}

/// Splits a forwarded body into its header and the caller's body; nothing
/// when it does not start with a header.
[[nodiscard]] inline std::optional<RelayHeader> decode_relay_header(std::span<const uint8_t> &body) noexcept
{
	if (body.size() < sizeof(RelayHeader))
		return std::nullopt;
	RelayHeader header;
	std::memcpy(&header, body.data(), sizeof(header));
	if (header.magic != relay_magic)
		return std::nullopt;
	body = body.subspan(sizeof(RelayHeader));
	return header;
}

/// "DRA1": a successful answer's bytes follow this header.
inline constexpr uint32_t answer_inline_magic = 0x31415244;
/// "DRA2": a successful answer's bytes are in the call's slot.
inline constexpr uint32_t answer_in_slot_magic = 0x32415244;

/// In front of every non-empty successful answer from a worker (an empty
/// body is an empty answer).
struct AnswerHeader {
	uint32_t magic = answer_inline_magic;
	/// With answer_in_slot_magic: the answer's length in the slot's answer area.
	uint32_t bytes_in_slot = 0;
};
static_assert(sizeof(AnswerHeader) == 8, "AnswerHeader must be 8 bytes, unpadded");

[[nodiscard]] inline std::array<uint8_t, sizeof(AnswerHeader)> encode_answer_header(AnswerHeader header) noexcept
{
	std::array<uint8_t, sizeof(AnswerHeader)> bytes{};
	std::memcpy(bytes.data(), &header, sizeof(header));
	return bytes;
}

/// The bytes of a successful answer `body` from a worker: those after its
/// header, or `answer_area.first(n)` when the header says they are in the
/// slot (`answer_area` is empty when the call had none). Nothing when the
/// body is malformed: no header, an unknown one, bytes after an in-slot
/// header, or a length past the area.
[[nodiscard]] inline std::optional<std::span<const uint8_t>> read_answer(std::span<const uint8_t> body,
                                                                         std::span<const uint8_t> answer_area) noexcept
{
	if (body.empty())
		return body;
	if (body.size() < sizeof(AnswerHeader))
		return std::nullopt;
	AnswerHeader header;
	std::memcpy(&header, body.data(), sizeof(header));
	if (header.magic == answer_inline_magic)
		return body.subspan(sizeof(AnswerHeader));
	if (header.magic != answer_in_slot_magic || body.size() != sizeof(AnswerHeader) ||
	    header.bytes_in_slot > answer_area.size())
		return std::nullopt;
	return answer_area.first(header.bytes_in_slot);
}

} // namespace drpc::host::isolation
