// SPDX-License-Identifier: Apache-2.0
// Chunk headers, the receiver's framing rules (every rejection by name) and
// the sender over a real SOCK_SEQPACKET socket pair.
#include <drpc/error.hpp>
#include <drpc/framing.hpp>

#include <doctest/doctest.h>

#include <bit>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <optional>
#include <poll.h>
#include <span>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

namespace {

using drpc::framing::check_chunk;
using drpc::framing::ChunkHeader;
using drpc::framing::Expectation;
using drpc::framing::header_size;
using drpc::framing::max_chunk_data;

/// Both ends of a SOCK_SEQPACKET socketpair, closed on destruction.
struct SocketPair {
	int sender = -1;
	int receiver = -1;

	explicit SocketPair(int type = SOCK_SEQPACKET)
	{
		int fds[2];
		REQUIRE(::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds) == 0);
		sender = fds[0];
		receiver = fds[1];
	}
	~SocketPair()
	{
		close_sender();
		close_receiver();
	}
	SocketPair(const SocketPair &) = delete;
	SocketPair &operator=(const SocketPair &) = delete;

	void close_sender()
	{
		if (sender >= 0)
			::close(std::exchange(sender, -1));
	}
	void close_receiver()
	{
		if (receiver >= 0)
			::close(std::exchange(receiver, -1));
	}
};

/// One received record, or nothing on EOF or after a generous 10 s (a hang guard).
std::optional<std::string> receive_record(int fd)
{
	pollfd pfd{fd, POLLIN, 0};
	if (::poll(&pfd, 1, 10000) <= 0)
		return std::nullopt;
	std::string buffer(drpc::framing::max_record_size + 1, '\0');
	const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
	if (n <= 0)
		return std::nullopt;
	buffer.resize(static_cast<size_t>(n));
	return buffer;
}

std::string pattern(size_t size, unsigned seed = 1)
{
	std::string out(size, '\0');
	for (size_t i = 0; i < size; ++i)
		out[i] = static_cast<char>(i * 31 + seed);
	return out;
}

std::span<const uint8_t> as_bytes(const std::string &s)
{
	return {reinterpret_cast<const uint8_t *>(s.data()), s.size()};
}

/// The state of a receiver that has accepted chunks 0..next_idx-1.
Expectation after(uint32_t next_idx, uint32_t total_chunks, uint64_t total_data_size, uint64_t received)
{
	return {next_idx, total_chunks, total_data_size, received};
}

} // namespace

TEST_CASE("framing: the header is DAOS's C struct, little endian on this host")
{
	static_assert(std::endian::native == std::endian::little, "the wire vectors are little endian");
	const ChunkHeader header{0x0807060504030201, 0x1817161514131211, 0x24232221, 0x34333231};
	uint8_t bytes[header_size + 1];
	bytes[header_size] = 0xee;
	drpc::framing::encode_header(header, bytes);
	const uint8_t expected[header_size] = {
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, // total_data_size at 0
		0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, // chunk_data_size at 8
		0x21, 0x22, 0x23, 0x24,                         // chunk_idx at 16
		0x31, 0x32, 0x33, 0x34,                         // total_chunks at 20
	};
	CHECK(std::memcmp(bytes, expected, header_size) == 0);
	CHECK(bytes[header_size] == 0xee);
	CHECK(drpc::framing::decode_header(bytes) == header);

	SUBCASE("round trip of extremes")
	{
		for (const ChunkHeader &h : {ChunkHeader{}, ChunkHeader{UINT64_MAX, UINT64_MAX, UINT32_MAX, UINT32_MAX},
		                             ChunkHeader{300010, 131048, 2, 3}}) {
			drpc::framing::encode_header(h, bytes);
			CHECK(drpc::framing::decode_header(bytes) == h);
		}
	}
}

TEST_CASE("framing: chunk_count")
{
	static_assert(max_chunk_data == 131048);
	struct Case {
		size_t size;
		uint32_t chunks;
	};
	for (const Case &c : {Case{0, 1}, Case{1, 1}, Case{131047, 1}, Case{131048, 1}, Case{131049, 2},
	                      Case{262096, 2}, Case{262097, 3}, Case{300010, 3}, Case{size_t{1} << 20, 9}}) {
		CAPTURE(c.size);
		CHECK(drpc::framing::chunk_count(c.size) == c.chunks);
	}
}

TEST_CASE("framing: check_chunk refuses every broken record and says why")
{
	constexpr size_t limit = size_t{1} << 20;
	struct Case {
		const char *name;
		ChunkHeader header;
		size_t record_size;
		Expectation expected;
		const char *why;
	};
	const std::vector<Case> cases = {
		{"record shorter than the header", {}, 23, {}, "shorter than the 24-byte header"},
		{"empty record", {}, 0, {}, "record of 0 bytes"},
		{"total_chunks 0", {10, 10, 0, 0}, 34, {}, "total_chunks is 0"},
		{"first chunk with index 1", {10, 10, 1, 2}, 34, {}, "chunk_idx is 1, expected 0"},
		{"chunk index skipped", {300, 100, 2, 3}, 124, after(1, 3, 300, 100), "chunk_idx is 2, expected 1"},
		{"chunk index repeated", {300, 100, 0, 3}, 124, after(1, 3, 300, 100), "chunk_idx is 0, expected 1"},
		{"total_chunks changed",
	         {300, 100, 1, 4},
	         124,
	         after(1, 3, 300, 100),
	         "total_chunks changed from 3 to 4"},
		{"total_data_size changed",
	         {301, 100, 1, 3},
	         124,
	         after(1, 3, 300, 100),
	         "total_data_size changed from 300 to 301"},
		{"chunk_data_size over a chunk",
	         {300000, 131049, 0, 3},
	         131073,
	         {},
	         "131049 is over the maximum of 131048"},
		{"chunk_data_size huge", {1000, UINT64_MAX, 0, 2}, 100, {}, "18446744073709551615 is over the maximum"},
		{"chunk_data_size above the record's data",
	         {10, 10, 0, 1},
	         30,
	         {},
	         "but the record carries 6 data bytes"},
		{"chunk_data_size below the record's data",
	         {10, 5, 0, 2},
	         34,
	         {},
	         "but the record carries 10 data bytes"},
		{"chunk larger than what remains",
	         {300, 150, 1, 3},
	         174,
	         after(1, 3, 300, 200),
	         "150 is more than the 100 bytes left"},
		{"first chunk larger than the message", {10, 20, 0, 2}, 44, {}, "20 is more than the 10 bytes left"},
		{"single chunk not completing the message",
	         {10, 5, 0, 1},
	         29,
	         {},
	         "last chunk carries 5 bytes but 10 remain"},
		{"last chunk not completing the message",
	         {300, 50, 2, 3},
	         74,
	         after(2, 3, 300, 200),
	         "last chunk carries 50 bytes but 100 remain"},
		{"message over max_message_bytes", {limit + 1, 100, 0, 9}, 124, {}, "over the limit of 1048576"},
		{"message of 2^40 bytes", {uint64_t{1} << 40, 131048, 0, 8390000}, 131072, {}, "over the limit"},
		{"total_chunks out of proportion",
	         {10, 1, 0, 11},
	         25,
	         {},
	         "total_chunks 11 for a message of only 10 bytes"},
		{"many chunks for an empty message",
	         {0, 0, 0, 2},
	         24,
	         {},
	         "total_chunks 2 for a message of only 0 bytes"},
	};
	for (const Case &c : cases) {
		SUBCASE(c.name)
		{
			const auto why = check_chunk(c.header, c.record_size, c.expected, limit);
			REQUIRE(why.has_value());
			CHECK_MESSAGE(why->find(c.why) != std::string::npos, *why);
			// every message says which chunk
			CHECK_MESSAGE(why->rfind("chunk " + std::to_string(c.expected.next_idx) + ": ", 0) == 0, *why);
		}
	}
}

TEST_CASE("framing: check_chunk accepts well-formed records")
{
	constexpr size_t limit = size_t{1} << 20;
	struct Case {
		const char *name;
		ChunkHeader header;
		size_t record_size;
		Expectation expected;
	};
	const std::vector<Case> cases = {
		{"empty message", {0, 0, 0, 1}, 24, {}},
		{"one byte", {1, 1, 0, 1}, 25, {}},
		{"one full chunk", {131048, 131048, 0, 1}, 131072, {}},
		{"first of two", {131049, 131048, 0, 2}, 131072, {}},
		{"second of two", {131049, 1, 1, 2}, 25, after(1, 2, 131049, 131048)},
		{"middle of three", {300010, 131048, 1, 3}, 131072, after(1, 3, 300010, 131048)},
		{"uneven split, first", {2010, 1000, 0, 3}, 1024, {}},
		{"uneven split, middle", {2010, 1000, 1, 3}, 1024, after(1, 3, 2010, 1000)},
		{"uneven split, last", {2010, 10, 2, 3}, 34, after(2, 3, 2010, 2000)},
		{"message at the limit", {limit, 131048, 0, 9}, 131072, {}},
		{"one chunk per byte", {3, 1, 0, 3}, 25, {}},
	};
	for (const Case &c : cases) {
		SUBCASE(c.name)
		{
			const auto why = check_chunk(c.header, c.record_size, c.expected, limit);
			CHECK_MESSAGE(!why.has_value(), why.value_or(""));
		}
	}
}

TEST_CASE("framing: send_message splits into full chunks with exact headers")
{
	for (const size_t size :
	     {size_t{0}, size_t{1}, size_t{131048}, size_t{131049}, size_t{300010}, size_t{1} << 20}) {
		CAPTURE(size);
		SocketPair pair;
		const std::string message = pattern(size, static_cast<unsigned>(size));
		// The socket buffer holds less than 1 MiB: send from another thread.
		std::string send_error;
		std::thread sender([&] {
			try {
				drpc::framing::send_message(pair.sender, as_bytes(message));
			} catch (const std::exception &e) {
				send_error = e.what();
			}
		});
		const uint32_t chunks = drpc::framing::chunk_count(size);
		std::string joined;
		for (uint32_t i = 0; i < chunks; ++i) {
			CAPTURE(i);
			const auto record = receive_record(pair.receiver);
			if (!record) {
				FAIL_CHECK("record missing");
				break;
			}
			if (record->size() < header_size) {
				FAIL_CHECK("record of " << record->size() << " bytes");
				break;
			}
			const ChunkHeader header =
				drpc::framing::decode_header(reinterpret_cast<const uint8_t *>(record->data()));
			const uint64_t expected_data =
				i + 1 < chunks ? max_chunk_data : size - uint64_t{i} * max_chunk_data;
			CHECK(header == ChunkHeader{size, expected_data, i, chunks});
			CHECK(record->size() == header_size + expected_data);
			joined += record->substr(header_size);
		}
		// nothing more was sent
		pollfd pfd{pair.receiver, POLLIN, 0};
		CHECK(::poll(&pfd, 1, 0) == 0);
		// (and should a check above have failed, the sender is not left blocked)
		::shutdown(pair.receiver, SHUT_RDWR);
		sender.join();
		CHECK(send_error.empty());
		CHECK(joined == message);
	}
}

namespace {

volatile std::sig_atomic_t sigpipe_count = 0;
void count_sigpipe(int) { sigpipe_count = sigpipe_count + 1; }

} // namespace

TEST_CASE("framing: sending to a closed peer throws EPIPE without SIGPIPE")
{
	struct sigaction counting {};
	counting.sa_handler = count_sigpipe;
	struct sigaction previous {};
	REQUIRE(::sigaction(SIGPIPE, &counting, &previous) == 0);
	sigpipe_count = 0;

	// Linux never raises SIGPIPE for SOCK_SEQPACKET; a stream socket shows
	// that send_message asks for none either way.
	for (const int type : {SOCK_SEQPACKET, SOCK_STREAM}) {
		for (const size_t size : {size_t{0}, size_t{10}, size_t{300010}}) {
			CAPTURE(type);
			CAPTURE(size);
			SocketPair pair(type);
			pair.close_receiver();
			const std::string message = pattern(size);
			const std::string step = "send chunk 1/" + std::to_string(drpc::framing::chunk_count(size));
			try {
				drpc::framing::send_message(pair.sender, as_bytes(message));
				FAIL_CHECK("send_message did not throw");
			} catch (const drpc::SystemError &e) {
				CHECK(e.code() == EPIPE);
				const std::string what = e.what();
				CHECK_MESSAGE(what.find(step) != std::string::npos, what);
				CHECK_MESSAGE(what.find(std::strerror(EPIPE)) != std::string::npos, what);
			}
		}
	}
	CHECK(sigpipe_count == 0);
	::sigaction(SIGPIPE, &previous, nullptr);
}
