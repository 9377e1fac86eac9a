// SPDX-License-Identifier: Apache-2.0
// Receives chunked messages straight into their final buffers: a one-chunk
// message is handed out where the kernel wrote it, and the chunks of a longer
// one are received in place in the assembly buffer.
#include <drpc/framing.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <system_error>

namespace drpc::framing {
namespace {

/// An assembly buffer larger than this is freed once its message is done, so
/// that one huge call does not pin memory for the life of a session.
constexpr size_t retained_assembly_bytes = size_t{4} << 20;

int remaining_ms(int timeout_ms, const timespec &start)
{
	if (timeout_ms < 0)
		return -1;
	timespec now{};
	clock_gettime(CLOCK_MONOTONIC, &now);
	const long long elapsed = (now.tv_sec - start.tv_sec) * 1000LL + (now.tv_nsec - start.tv_nsec) / 1000000;
	return elapsed >= timeout_ms ? 0 : static_cast<int>(timeout_ms - elapsed);
}

} // namespace

MessageReader::MessageReader(size_t max_message_bytes, BufferBudget *budget)
	: max_message_bytes_(max_message_bytes), budget_(budget)
{
	// Anonymous pages are committed only when a record lands on them, so an
	// idle session with small calls costs a page, not a whole chunk.
	void *memory = ::mmap(nullptr, max_chunk_data, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (memory == MAP_FAILED)
		throw std::bad_alloc();
	record_ = static_cast<uint8_t *>(memory);
}

MessageReader::~MessageReader()
{
	free_assembly();
	::munmap(record_, max_chunk_data);
}

void MessageReader::free_assembly() noexcept
{
	assembly_.reset();
	if (budget_ != nullptr && assembly_capacity_ > 0)
		budget_->release(assembly_capacity_);
	assembly_capacity_ = 0;
}

void MessageReader::release_memory() noexcept
{
	// The kernel drops the pages; the next record faults fresh zero pages in.
	::madvise(record_, max_chunk_data, MADV_DONTNEED);
	message_ = {};
	if (!in_message())
		free_assembly();
}

bool MessageReader::reserve_assembly(size_t needed, size_t total)
{
	if (needed <= assembly_capacity_)
		return true;
	// Doubling keeps the copies linear in the message size while memory
	// follows what has really arrived, not what the header claims.
	const size_t capacity = std::min(total, std::max(needed, assembly_capacity_ * 2));
	// The old and the new buffer both exist during the copy: both are
	// charged until the old one is freed.
	if (budget_ != nullptr && !budget_->acquire(capacity))
		return false;
	std::unique_ptr<uint8_t[]> bigger(new (std::nothrow) uint8_t[capacity]);
	if (!bigger) {
		if (budget_ != nullptr)
			budget_->release(capacity);
		return false;
	}
	if (in_message() && expected_.received > 0)
		std::memcpy(bigger.get(), assembly_.get(), expected_.received);
	free_assembly();
	assembly_ = std::move(bigger);
	assembly_capacity_ = capacity;
	return true;
}

MessageReader::Result MessageReader::fail_timeout(uint32_t chunks_received)
{
	const Result result = fail("message not complete within " + std::to_string(message_timeout_.count()) +
	                           " ms (limits.message_timeout_ms), after chunk " + std::to_string(chunks_received) +
	                           " of " + std::to_string(expected_.total_chunks));
	timed_out_ = true;
	return result;
}

bool MessageReader::past_message_deadline() const noexcept
{
	return message_timeout_.count() > 0 && std::chrono::steady_clock::now() >= message_deadline();
}

void MessageReader::reset() noexcept
{
	expected_ = {};
	message_ = {};
}

MessageReader::Result MessageReader::fail(std::string why)
{
	error_ = std::move(why);
	timed_out_ = false;
	reset();
	return Result::error;
}

MessageReader::Result MessageReader::read(int fd, int timeout_ms)
{
	if (expected_.next_idx == 0) {
		message_ = {};
		if (assembly_capacity_ > retained_assembly_bytes)
			free_assembly();
	} else if (past_message_deadline()) {
		return fail_timeout(expected_.next_idx);
	}
	timespec start{};
	if (timeout_ms >= 0)
		clock_gettime(CLOCK_MONOTONIC, &start);

	for (;;) {
		if (timeout_ms >= 0) {
			pollfd pfd{fd, POLLIN, 0};
			int ready;
			do {
				ready = ::poll(&pfd, 1, remaining_ms(timeout_ms, start));
			} while (ready < 0 && errno == EINTR);
			if (ready < 0)
				return fail(std::string("poll: ") + std::strerror(errno));
			if (ready == 0)
				return Result::timeout;
		}

		uint8_t header_bytes[header_size];
		iovec iov[3];
		iov[0] = {header_bytes, header_size};
		size_t iov_count;
		if (expected_.next_idx == 0) {
			iov[1] = {record_, max_chunk_data};
			iov_count = 2;
		} else {
			// Data goes straight to its place in the message; a record longer
			// than announced spills into record_ and is caught by check_chunk.
			const size_t want =
				std::min<uint64_t>(max_chunk_data, expected_.total_data_size - expected_.received);
			if (!reserve_assembly(expected_.received + want, expected_.total_data_size))
				return fail("message of " + std::to_string(expected_.total_data_size) +
				            " bytes: no memory for chunk " + std::to_string(expected_.next_idx + 1) +
				            " of " + std::to_string(expected_.total_chunks));
			iov[1] = {assembly_.get() + expected_.received, want};
			iov[2] = {record_, max_chunk_data - want};
			iov_count = want == max_chunk_data ? 2 : 3;
		}
		msghdr msg{};
		msg.msg_iov = iov;
		msg.msg_iovlen = iov_count;
		ssize_t received;
		do {
			received = ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
		} while (received < 0 && errno == EINTR);

		if (received <= 0) {
			const bool mid_message = expected_.next_idx != 0;
			const int error = received < 0 ? errno : 0;
			// SO_RCVTIMEO expired: the state is kept for the next read().
			if (received < 0 && (error == EAGAIN || error == EWOULDBLOCK)) {
				if (mid_message && past_message_deadline())
					return fail_timeout(expected_.next_idx);
				return Result::timeout;
			}
			if (received < 0 && error != ECONNRESET)
				return fail(std::string("receive: ") + std::strerror(error));
			if (mid_message) {
				error_ = "peer closed the connection after chunk " +
				         std::to_string(expected_.next_idx) + " of " +
				         std::to_string(expected_.total_chunks);
				reset();
			}
			return Result::closed;
		}
		if ((msg.msg_flags & MSG_TRUNC) != 0)
			return fail("chunk " + std::to_string(expected_.next_idx) + ": record larger than " +
			            std::to_string(max_record_size) + " bytes");

		const auto record_size = static_cast<size_t>(received);
		const ChunkHeader header = record_size >= header_size ? decode_header(header_bytes) : ChunkHeader{};
		if (auto why = check_chunk(header, record_size, expected_, max_message_bytes_))
			return fail(std::move(*why));

		if (expected_.next_idx == 0) {
			if (header.total_chunks == 1) {
				message_ = {record_, header.chunk_data_size};
				return Result::message;
			}
			// Room for this chunk and the next only; the size is already
			// checked against max_message_bytes_.
			const size_t first = std::min<uint64_t>(header.total_data_size, 2 * max_chunk_data);
			if (!reserve_assembly(first, header.total_data_size))
				return fail("message of " + std::to_string(header.total_data_size) +
				            " bytes: no memory for chunk 1 of " + std::to_string(header.total_chunks));
			std::memcpy(assembly_.get(), record_, header.chunk_data_size);
			expected_ = {1, header.total_chunks, header.total_data_size, header.chunk_data_size};
			if (message_timeout_.count() > 0)
				message_started_ = std::chrono::steady_clock::now();
			continue;
		}

		expected_.received += header.chunk_data_size;
		if (expected_.next_idx + 1 < expected_.total_chunks && past_message_deadline())
			return fail_timeout(expected_.next_idx + 1);
		if (++expected_.next_idx == expected_.total_chunks) {
			message_ = {assembly_.get(), expected_.total_data_size};
			expected_ = {};
			return Result::message;
		}
	}
}

} // namespace drpc::framing
