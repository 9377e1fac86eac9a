// SPDX-License-Identifier: Apache-2.0
/// @file drpc/framing.hpp
/// dRPC's chunked framing over SOCK_SEQPACKET: every message travels as one or
/// more records, each a 24-byte header and at most 131048 data bytes.
///
/// The receiver never trusts a length before checking it: a record larger
/// than a chunk, a header that disagrees with the record or with earlier
/// chunks, and a message larger than the configured maximum are all refused
/// before anything is allocated for them.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace drpc::framing {

inline constexpr size_t max_record_size = size_t{1} << 17;
inline constexpr size_t header_size = 24;
inline constexpr size_t max_chunk_data = max_record_size - header_size;
/// The default cap on a whole message; configurable per server and client.
/// DAOS's own calls are small (pool and container handles, ACLs, a few KiB;
/// the largest, a pool query with its ranks, stays well under 1 MiB), so
/// 16 MiB leaves ample room and keeps one message far below the in-flight
/// budget.
inline constexpr size_t default_max_message_bytes = size_t{16} << 20;

/// The chunk header as DAOS lays it out: a C struct of two size_t and two
/// uint32_t in the host's byte order.
struct ChunkHeader {
	uint64_t total_data_size = 0;
	uint64_t chunk_data_size = 0;
	uint32_t chunk_idx = 0;
	uint32_t total_chunks = 0;

	bool operator==(const ChunkHeader &) const = default;
};
static_assert(sizeof(ChunkHeader) == header_size, "ChunkHeader must be 24 bytes, unpadded");
static_assert(offsetof(ChunkHeader, chunk_idx) == 16 && offsetof(ChunkHeader, total_chunks) == 20);

void encode_header(const ChunkHeader &header, uint8_t *out) noexcept;
[[nodiscard]] ChunkHeader decode_header(const uint8_t *in) noexcept;

/// How many chunks a message of `message_size` bytes takes (1 for empty).
[[nodiscard]] constexpr uint32_t chunk_count(size_t message_size) noexcept
{
	return message_size == 0 ? 1 : static_cast<uint32_t>((message_size + max_chunk_data - 1) / max_chunk_data);
}

/// What the receiver expects of the next record.
struct Expectation {
	uint32_t next_idx = 0;        ///< 0 at the start of a message
	uint32_t total_chunks = 0;    ///< from chunk 0; unused while next_idx == 0
	uint64_t total_data_size = 0; ///< from chunk 0; unused while next_idx == 0
	uint64_t received = 0;        ///< data bytes of this message so far
};

/// Checks one received record (`record_size` bytes, its header decoded as
/// `header`) against the framing rules and the receiver's state. Returns why
/// it is refused, or nothing when it is acceptable.
[[nodiscard]] std::optional<std::string> check_chunk(const ChunkHeader &header, size_t record_size,
                                                     const Expectation &expected, size_t max_message_bytes);

/// Sends `message` on a connected SOCK_SEQPACKET socket as chunks. Blocks
/// until every chunk is queued, or (timeout_ms >= 0) until the deadline,
/// which throws SystemError with ETIMEDOUT; throws SystemError (errno, with
/// "send chunk i/n") on failure. Never raises SIGPIPE.
void send_message(int fd, std::span<const uint8_t> message, int timeout_ms = -1);

/// The same for a message made of `head` followed by `tail`, gathered
/// straight from both (e.g. encoded fields, then a large body) so the body
/// is never copied into one buffer first.
void send_message(int fd, std::span<const uint8_t> head, std::span<const uint8_t> tail, int timeout_ms = -1);

/// Sends the chunks of `message` from `next_chunk` on, as many as the socket
/// takes without blocking, advancing `next_chunk` past each one sent (start
/// at 0; call again with the same message once the socket is writable).
/// True once the last chunk is sent, false when the socket is full. Throws
/// SystemError as send_message() does on any other failure.
[[nodiscard]] bool send_message_nonblocking(int fd, std::span<const uint8_t> message, uint32_t &next_chunk);

/// Memory a reader or an answer may hold, granted by its owner (a server's
/// in-flight budget). Buffers ask before they grow and give back what they
/// free.
class BufferBudget {
public:
	virtual ~BufferBudget() = default;
	/// Asks for `bytes` more; false refuses them (nothing is taken).
	virtual bool acquire(size_t bytes) noexcept = 0;
	virtual void release(size_t bytes) noexcept = 0;
};

/// Reads whole messages from a SOCK_SEQPACKET socket. Keeps one chunk-sized
/// receive buffer, whose pages the kernel only commits as records fill them,
/// and an assembly buffer for multi-chunk messages that grows to the largest
/// message seen (up to the cap) and is reused. The assembly buffer grows as
/// chunks arrive, never on the first header's claim, and asks `budget` (if
/// any) before every growth.
class MessageReader {
public:
	enum class Result {
		message, ///< message() holds a whole message
		closed,  ///< the peer closed between messages
		timeout, ///< the deadline (or SO_RCVTIMEO) passed; a message may be half read
		error,   ///< error() says why; the connection is unusable
	};

	explicit MessageReader(size_t max_message_bytes = default_max_message_bytes, BufferBudget *budget = nullptr);
	~MessageReader();
	MessageReader(const MessageReader &) = delete;
	MessageReader &operator=(const MessageReader &) = delete;

	/// Blocks until a whole message, EOF, an error, or (timeout_ms >= 0) the
	/// deadline. After `timeout` the next read() continues the same message.
	Result read(int fd, int timeout_ms = -1);

	/// The last message read; valid until the next read().
	[[nodiscard]] std::span<const uint8_t> message() const noexcept { return message_; }

	/// Why the last read() answered `error` (or `closed` mid-message).
	[[nodiscard]] const std::string &error() const noexcept { return error_; }
	/// True when that error was the message timeout (set_message_timeout()).
	[[nodiscard]] bool timed_out() const noexcept { return timed_out_; }

	/// Forgets a half-read message (e.g. after a timeout the caller gave up on).
	void reset() noexcept;

	[[nodiscard]] size_t max_message_bytes() const noexcept { return max_message_bytes_; }

	/// A message that has started must be complete within `timeout` (zero:
	/// no limit); past it read() answers `error`.
	void set_message_timeout(std::chrono::milliseconds timeout) noexcept { message_timeout_ = timeout; }
	/// True between the first and the last chunk of a message.
	[[nodiscard]] bool in_message() const noexcept { return expected_.next_idx != 0; }
	/// When the message being read must be complete (in_message() only).
	[[nodiscard]] std::chrono::steady_clock::time_point message_deadline() const noexcept
	{
		return message_started_ + message_timeout_;
	}
	/// Gives the memory of an idle reader back to the system: the receive
	/// buffer's pages and, between messages, the assembly buffer.
	void release_memory() noexcept;
	/// Bytes held in the assembly buffer (charged to the budget).
	[[nodiscard]] size_t assembly_bytes() const noexcept { return assembly_capacity_; }

private:
	Result fail(std::string why);
	Result fail_timeout(uint32_t chunks_received);
	/// Makes room for `needed` assembled bytes; false when refused.
	bool reserve_assembly(size_t needed, size_t total);
	void free_assembly() noexcept;
	[[nodiscard]] bool past_message_deadline() const noexcept;

	size_t max_message_bytes_;
	uint8_t *record_ = nullptr; // max_chunk_data bytes, mmap'ed
	std::unique_ptr<uint8_t[]> assembly_;
	size_t assembly_capacity_ = 0;
	BufferBudget *budget_ = nullptr;
	std::chrono::milliseconds message_timeout_{0};
	std::chrono::steady_clock::time_point message_started_{};
	Expectation expected_;
	std::span<const uint8_t> message_;
	std::string error_;
	bool timed_out_ = false;
};

} // namespace drpc::framing
