// SPDX-License-Identifier: Apache-2.0
/// @file relay_header.hpp
/// What the host puts in front of each call's body when it forwards the call
/// to an isolated module's worker: the original caller and sequence, which
/// the plugin sees in its drpc_call_info as it would in-process.
#pragma once

#include <drpc/module.hpp>

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

namespace drpc::host::isolation {

/// "DRW1": tells a forwarded body from anything else sent to a worker.
inline constexpr uint32_t relay_magic = 0x31575244;

struct RelayHeader {
	uint32_t magic = relay_magic;
	int32_t peer_pid = 0;
	uint32_t peer_uid = 0;
	uint32_t peer_gid = 0;
	int64_t sequence = 0;
};
static_assert(sizeof(RelayHeader) == 24, "RelayHeader must be 24 bytes, unpadded");

/// The header's bytes for the call `context` (in this host's byte order:
/// both ends run the same binary on the same machine).
[[nodiscard]] inline std::array<uint8_t, sizeof(RelayHeader)> encode_relay_header(const CallContext &context) noexcept
{
	const RelayHeader header{
		.magic = relay_magic,
		.peer_pid = static_cast<int32_t>(context.peer.pid),
		.peer_uid = static_cast<uint32_t>(context.peer.uid),
		.peer_gid = static_cast<uint32_t>(context.peer.gid),
		.sequence = context.sequence,
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

} // namespace drpc::host::isolation
