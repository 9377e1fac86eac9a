// SPDX-License-Identifier: Apache-2.0
// Chunk headers, the framing rules a receiver enforces, and the sender.
#include <drpc/error.hpp>
#include <drpc/framing.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <sys/uio.h>

namespace drpc::framing {

void encode_header(const ChunkHeader &header, uint8_t *out) noexcept
{
	// Host byte order, exactly as DAOS's C struct; memcpy keeps it aliasing-safe.
	std::memcpy(out, &header, header_size);
}

ChunkHeader decode_header(const uint8_t *in) noexcept
{
	ChunkHeader header;
	std::memcpy(&header, in, header_size);
	return header;
}

std::optional<std::string> check_chunk(const ChunkHeader &header, size_t record_size, const Expectation &expected,
                                       size_t max_message_bytes)
{
	const auto where = [&] { return "chunk " + std::to_string(expected.next_idx) + ": "; };
	if (record_size < header_size)
		return where() + "record of " + std::to_string(record_size) + " bytes is shorter than the " +
		       std::to_string(header_size) + "-byte header";
	if (header.total_chunks == 0)
		return where() + "total_chunks is 0";
	if (header.chunk_idx != expected.next_idx)
		return where() + "chunk_idx is " + std::to_string(header.chunk_idx) + ", expected " +
		       std::to_string(expected.next_idx);
	if (expected.next_idx == 0) {
		if (header.total_data_size > max_message_bytes)
			return where() + "message of " + std::to_string(header.total_data_size) +
			       " bytes is over the limit of " + std::to_string(max_message_bytes);
		// DAOS's senders split into full chunks, but its receivers accept any
		// split; so do we, as long as no chunk could be empty for nothing.
		if (header.total_chunks > std::max<uint64_t>(1, header.total_data_size))
			return where() + "total_chunks " + std::to_string(header.total_chunks) +
			       " for a message of only " + std::to_string(header.total_data_size) + " bytes";
	} else {
		if (header.total_chunks != expected.total_chunks)
			return where() + "total_chunks changed from " + std::to_string(expected.total_chunks) + " to " +
			       std::to_string(header.total_chunks);
		if (header.total_data_size != expected.total_data_size)
			return where() + "total_data_size changed from " + std::to_string(expected.total_data_size) +
			       " to " + std::to_string(header.total_data_size);
	}
	if (header.chunk_data_size > max_chunk_data)
		return where() + "chunk_data_size " + std::to_string(header.chunk_data_size) +
		       " is over the maximum of " + std::to_string(max_chunk_data);
	if (header.chunk_data_size != record_size - header_size)
		return where() + "chunk_data_size " + std::to_string(header.chunk_data_size) +
		       " but the record carries " + std::to_string(record_size - header_size) + " data bytes";
	const uint64_t total = expected.next_idx == 0 ? header.total_data_size : expected.total_data_size;
	const uint64_t remaining = total - expected.received;
	if (header.chunk_data_size > remaining)
		return where() + "chunk_data_size " + std::to_string(header.chunk_data_size) + " is more than the " +
		       std::to_string(remaining) + " bytes left of the message";
	if (header.chunk_idx + 1 == header.total_chunks && header.chunk_data_size != remaining)
		return where() + "last chunk carries " + std::to_string(header.chunk_data_size) + " bytes but " +
		       std::to_string(remaining) + " remain of the message";
	return std::nullopt;
}

namespace {

/// Chunk `index` of the message `head` + `tail` (`total` bytes in `chunks`
/// chunks) as sendmsg takes it; returns sendmsg's result, errno as it left it.
ssize_t send_chunk(int fd, std::span<const uint8_t> head, std::span<const uint8_t> tail, size_t total, uint32_t chunks,
                   uint32_t index, int flags) noexcept
{
	const size_t offset = size_t{index} * max_chunk_data;
	const ChunkHeader header{total, std::min(max_chunk_data, total - offset), index, chunks};
	uint8_t header_bytes[header_size];
	encode_header(header, header_bytes);
	iovec iov[3];
	size_t count = 0;
	iov[count++] = {header_bytes, header_size};
	// This chunk's data is [offset, end) of head followed by tail.
	const size_t end = offset + header.chunk_data_size;
	if (offset < head.size()) {
		const size_t to = std::min(end, head.size());
		iov[count++] = {const_cast<uint8_t *>(head.data() + offset), to - offset};
	}
	if (end > head.size()) {
		const size_t from = std::max(offset, head.size()) - head.size();
		iov[count++] = {const_cast<uint8_t *>(tail.data() + from), end - head.size() - from};
	}
	msghdr msg{};
	msg.msg_iov = iov;
	msg.msg_iovlen = count;
	ssize_t sent;
	do
		sent = ::sendmsg(fd, &msg, flags | MSG_NOSIGNAL);
	while (sent < 0 && errno == EINTR);
	return sent;
}

[[noreturn]] void throw_chunk_error(uint32_t index, uint32_t chunks, int error)
{
	throw SystemError("send chunk " + std::to_string(index + 1) + "/" + std::to_string(chunks), error);
}

} // namespace

void send_message(int fd, std::span<const uint8_t> message, int timeout_ms)
{
	send_message(fd, message, {}, timeout_ms);
}

void send_message(int fd, std::span<const uint8_t> head, std::span<const uint8_t> tail, int timeout_ms)
{
	const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max(timeout_ms, 0));
	const size_t total = head.size() + tail.size();
	const uint32_t chunks = chunk_count(total);
	// With a deadline, never block in sendmsg: wait for room with poll.
	const int flags = timeout_ms >= 0 ? MSG_DONTWAIT : 0;
	for (uint32_t i = 0; i < chunks; ++i) {
		while (send_chunk(fd, head, tail, total, chunks, i, flags) < 0) {
			if (errno != EAGAIN || timeout_ms < 0)
				throw_chunk_error(i, chunks, errno);
			const auto left = std::chrono::ceil<std::chrono::milliseconds>(
				deadline - std::chrono::steady_clock::now());
			pollfd pfd{fd, POLLOUT, 0};
			if (left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) == 0)
				throw_chunk_error(i, chunks, ETIMEDOUT);
		}
	}
}

bool send_message_nonblocking(int fd, std::span<const uint8_t> message, uint32_t &next_chunk)
{
	const uint32_t chunks = chunk_count(message.size());
	for (; next_chunk < chunks; ++next_chunk) {
		if (send_chunk(fd, message, {}, message.size(), chunks, next_chunk, MSG_DONTWAIT) < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return false;
			throw_chunk_error(next_chunk, chunks, errno);
		}
	}
	return true;
}

} // namespace drpc::framing
