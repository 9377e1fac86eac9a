// SPDX-License-Identifier: Apache-2.0
// MessageReader over a real SOCK_SEQPACKET socket pair: whole messages of
// every size, buffer reuse, uneven splits, every framing rejection, EOF and
// deadlines.
#include "test_support.hpp"

#include <drpc/framing.hpp>

#include <doctest/doctest.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

namespace {

using drpc::framing::MessageReader;
using Result = MessageReader::Result;
using test::make_record;

/// Both ends of a SOCK_SEQPACKET socketpair, closed on destruction.
struct SocketPair {
	int sender = -1;
	int receiver = -1;

	SocketPair()
	{
		int fds[2];
		REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) == 0);
		sender = fds[0];
		receiver = fds[1];
	}
	~SocketPair()
	{
		close_sender();
		if (receiver >= 0)
			::close(receiver);
	}
	SocketPair(const SocketPair &) = delete;
	SocketPair &operator=(const SocketPair &) = delete;

	void close_sender()
	{
		if (sender >= 0)
			::close(std::exchange(sender, -1));
	}

	void send_record(const std::string &record) const
	{
		REQUIRE(::send(sender, record.data(), record.size(), MSG_NOSIGNAL) ==
		        static_cast<ssize_t>(record.size()));
	}
};

/// Sends from a thread, since a socket buffer holds less than the larger
/// messages. On destruction it shuts the receiving end down, so that a test
/// that stopped reading early (or failed) cannot leave it blocked, then joins
/// it and reports its errors.
class Sender {
public:
	enum class Expect { success, may_fail };

	/// Sends each of `messages` chunked as drpc::framing does.
	Sender(SocketPair &pair, std::vector<std::string> messages, Expect expect = Expect::success)
		: Sender(pair, std::move(messages), expect, true)
	{
	}
	/// Sends each of `records` as it is.
	static Sender records(SocketPair &pair, std::vector<std::string> records)
	{
		return Sender(pair, std::move(records), Expect::may_fail, false);
	}
	~Sender()
	{
		::shutdown(receiver_, SHUT_RDWR);
		thread_.join();
		if (expect_ == Expect::success)
			CHECK_MESSAGE(error_.empty(), error_);
	}
	Sender(const Sender &) = delete;
	Sender &operator=(const Sender &) = delete;

private:
	Sender(SocketPair &pair, std::vector<std::string> payloads, Expect expect, bool chunked)
		: payloads_(std::move(payloads)),
		  expect_(expect),
		  receiver_(pair.receiver),
		  thread_([this, fd = pair.sender, chunked] { run(fd, chunked); })
	{
	}

	void run(int fd, bool chunked) noexcept
	{
		try {
			for (const std::string &p : payloads_) {
				if (chunked)
					drpc::framing::send_message(
						fd, std::span(reinterpret_cast<const uint8_t *>(p.data()), p.size()));
				else if (::send(fd, p.data(), p.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(p.size()))
					throw std::runtime_error(std::string("send: ") + std::strerror(errno));
			}
		} catch (const std::exception &e) {
			error_ = e.what();
		}
	}

	std::vector<std::string> payloads_;
	Expect expect_;
	int receiver_;
	std::string error_;
	std::thread thread_;
};

std::string pattern(size_t size, unsigned seed)
{
	std::string out(size, '\0');
	for (size_t i = 0; i < size; ++i)
		out[i] = static_cast<char>(i * 7 + seed + (i >> 13));
	return out;
}

std::string message_of(const MessageReader &reader)
{
	const auto bytes = reader.message();
	return {reinterpret_cast<const char *>(bytes.data()), bytes.size()};
}

bool contains(const std::string &text, const std::string &part) { return text.find(part) != std::string::npos; }

constexpr int hang_guard_ms = 10000;

} // namespace

TEST_CASE("message reader: whole messages of every size")
{
	for (const size_t size :
	     {size_t{0}, size_t{1}, size_t{131047}, size_t{131048}, size_t{131049}, size_t{262097}, size_t{1} << 20}) {
		CAPTURE(size);
		SocketPair pair;
		MessageReader reader;
		const std::string message = pattern(size, 3);
		Sender sender(pair, {message});
		REQUIRE(reader.read(pair.receiver, hang_guard_ms) == Result::message);
		CHECK(reader.message().size() == size);
		CHECK(message_of(reader) == message);
		CHECK(reader.error().empty());
	}
}

TEST_CASE("message reader: one reader reads many messages in a row")
{
	SocketPair pair;
	MessageReader reader;
	const std::vector<size_t> sizes = {300000, 10, size_t{1} << 20, 0, 131049, 5, 300000, 131048, 262096, 1};
	std::vector<std::string> messages;
	for (size_t i = 0; i < sizes.size(); ++i)
		messages.push_back(pattern(sizes[i], static_cast<unsigned>(i)));
	Sender sender(pair, messages);
	for (size_t i = 0; i < messages.size(); ++i) {
		CAPTURE(i);
		REQUIRE(reader.read(pair.receiver, hang_guard_ms) == Result::message);
		CHECK(message_of(reader) == messages[i]);
	}
	pair.close_sender();
	CHECK(reader.read(pair.receiver, hang_guard_ms) == Result::closed);
	CHECK(reader.error().empty());
}

TEST_CASE("message reader: an uneven split is accepted, as DAOS's receiver accepts it")
{
	SocketPair pair;
	MessageReader reader;
	const std::string message = pattern(2010, 9);
	pair.send_record(make_record(2010, 1000, 0, 3, message.substr(0, 1000)));
	pair.send_record(make_record(2010, 1000, 1, 3, message.substr(1000, 1000)));
	pair.send_record(make_record(2010, 10, 2, 3, message.substr(2000)));
	// then a one-byte-per-chunk message and a middle chunk with no data
	pair.send_record(make_record(3, 1, 0, 3, "a"));
	pair.send_record(make_record(3, 1, 1, 3, "b"));
	pair.send_record(make_record(3, 1, 2, 3, "c"));
	pair.send_record(make_record(4, 2, 0, 3, "xy"));
	pair.send_record(make_record(4, 0, 1, 3, ""));
	pair.send_record(make_record(4, 2, 2, 3, "zw"));
	REQUIRE(reader.read(pair.receiver, hang_guard_ms) == Result::message);
	CHECK(message_of(reader) == message);
	REQUIRE(reader.read(pair.receiver, hang_guard_ms) == Result::message);
	CHECK(message_of(reader) == "abc");
	REQUIRE(reader.read(pair.receiver, hang_guard_ms) == Result::message);
	CHECK(message_of(reader) == "xyzw");
}

TEST_CASE("message reader: broken framing is refused with a reason")
{
	const std::string full(drpc::framing::max_chunk_data, 'f');
	struct Case {
		const char *name;
		std::vector<std::string> records;
		const char *why;
	};
	const std::vector<Case> cases = {
		{"short record", {std::string(10, 'x')}, "shorter than the 24-byte header"},
		{"header only, one byte short", {std::string(23, '\0')}, "record of 23 bytes"},
		{"total_chunks 0", {make_record(5, 5, 0, 0, "hello")}, "total_chunks is 0"},
		{"first index 1", {make_record(5, 5, 1, 2, "hello")}, "chunk_idx is 1, expected 0"},
		{"index skipped",
	         {make_record(10, 5, 0, 2, "hello"), make_record(10, 5, 2, 2, "world")},
	         "chunk_idx is 2, expected 1"},
		{"total_chunks changing",
	         {make_record(10, 5, 0, 2, "hello"), make_record(10, 5, 1, 3, "world")},
	         "total_chunks changed"},
		{"total_data_size changing",
	         {make_record(10, 5, 0, 2, "hello"), make_record(11, 5, 1, 2, "world")},
	         "total_data_size changed"},
		{"chunk_data_size over a chunk",
	         {make_record(300000, 131049, 0, 3, "abc")},
	         "is over the maximum of 131048"},
		{"chunk_data_size not the record's",
	         {make_record(10, 10, 0, 1, "hello")},
	         "the record carries 5 data bytes"},
		{"second chunk longer than announced",
	         {make_record(10, 5, 0, 2, "hello"), make_record(10, 5, 1, 2, "world and more")},
	         "the record carries 14 data bytes"},
		{"more than remains",
	         {make_record(8, 5, 0, 2, "hello"), make_record(8, 5, 1, 2, "world")},
	         "more than the 3 bytes left"},
		{"record over 131072 bytes",
	         {make_record(131049, 131049, 0, 1, full + "x")},
	         "record larger than 131072"},
		{"second record over 131072 bytes",
	         {make_record(300000, 131048, 0, 3, full), make_record(300000, 131049, 1, 3, full + "x")},
	         "chunk 1: record larger than 131072"},
		{"message over the reader's maximum",
	         {make_record(uint64_t{1} << 40, 5, 0, 2, "hello")},
	         "over the limit of 1048576"},
		{"message just over the maximum",
	         {make_record((size_t{1} << 20) + 1, 5, 0, 9, "hello")},
	         "over the limit of 1048576"},
		{"absurd total_chunks", {make_record(5, 1, 0, 1000, "h")}, "total_chunks 1000 for a message of only 5"},
	};
	for (const Case &c : cases) {
		SUBCASE(c.name)
		{
			SocketPair pair;
			MessageReader reader(size_t{1} << 20);
			{
				const Sender sender = Sender::records(pair, c.records);
				CHECK(reader.read(pair.receiver, hang_guard_ms) == Result::error);
				CHECK_MESSAGE(contains(reader.error(), c.why), reader.error());
			}

			// The reader starts afresh on another connection.
			SocketPair next;
			Sender sender(next, {pattern(200000, 1), "ok"});
			REQUIRE(reader.read(next.receiver, hang_guard_ms) == Result::message);
			CHECK(message_of(reader) == pattern(200000, 1));
			REQUIRE(reader.read(next.receiver, hang_guard_ms) == Result::message);
			CHECK(message_of(reader) == "ok");
		}
	}
}

TEST_CASE("message reader: a message at the maximum is read, one byte more is not")
{
	constexpr size_t limit = 300000;
	SocketPair pair;
	MessageReader reader(limit);
	CHECK(reader.max_message_bytes() == limit);
	Sender sender(pair, {pattern(limit, 4)});
	REQUIRE(reader.read(pair.receiver, hang_guard_ms) == Result::message);
	CHECK(message_of(reader) == pattern(limit, 4));

	SocketPair over;
	const Sender over_sender(over, {std::string(limit + 1, 'o')}, Sender::Expect::may_fail);
	CHECK(reader.read(over.receiver, hang_guard_ms) == Result::error);
	CHECK_MESSAGE(contains(reader.error(), "over the limit of 300000"), reader.error());
}

TEST_CASE("message reader: a peer closing mid-message is reported with the chunk")
{
	SocketPair pair;
	MessageReader reader;
	pair.send_record(make_record(300, 100, 0, 3, std::string(100, 'a')));
	pair.send_record(make_record(300, 100, 1, 3, std::string(100, 'b')));
	pair.close_sender();
	REQUIRE(reader.read(pair.receiver, hang_guard_ms) == Result::closed);
	CHECK_MESSAGE(contains(reader.error(), "after chunk 2 of 3"), reader.error());
}

TEST_CASE("message reader: a peer closing between messages is a clean close")
{
	SocketPair pair;
	MessageReader reader;
	pair.send_record(make_record(2, 2, 0, 1, "hi"));
	pair.close_sender();
	REQUIRE(reader.read(pair.receiver, hang_guard_ms) == Result::message);
	CHECK(message_of(reader) == "hi");
	CHECK(reader.read(pair.receiver, hang_guard_ms) == Result::closed);
	CHECK(reader.error().empty());
}

TEST_CASE("message reader: an empty record is never taken for a message")
{
	SocketPair pair;
	MessageReader reader;
	REQUIRE(::send(pair.sender, "", 0, MSG_NOSIGNAL) == 0);
	CHECK(reader.read(pair.receiver, hang_guard_ms) != Result::message);
}

TEST_CASE("message reader: deadlines")
{
	SUBCASE("nothing arrives")
	{
		SocketPair pair;
		MessageReader reader;
		CHECK(reader.read(pair.receiver, 50) == Result::timeout);
		CHECK(reader.read(pair.receiver, 0) == Result::timeout);
		// and a message sent later is still read whole
		pair.send_record(make_record(3, 3, 0, 1, "abc"));
		REQUIRE(reader.read(pair.receiver, hang_guard_ms) == Result::message);
		CHECK(message_of(reader) == "abc");
	}
	SUBCASE("half a message, a timeout, then the rest")
	{
		SocketPair pair;
		MessageReader reader;
		const std::string message = pattern(300000, 5);
		pair.send_record(make_record(300000, 131048, 0, 3, message.substr(0, 131048)));
		CHECK(reader.read(pair.receiver, 50) == Result::timeout);
		pair.send_record(make_record(300000, 131048, 1, 3, message.substr(131048, 131048)));
		CHECK(reader.read(pair.receiver, 50) == Result::timeout);
		pair.send_record(make_record(300000, 300000 - 262096, 2, 3, message.substr(262096)));
		REQUIRE(reader.read(pair.receiver, hang_guard_ms) == Result::message);
		CHECK(message_of(reader) == message);
	}
	SUBCASE("reset() forgets a half-read message")
	{
		SocketPair pair;
		MessageReader reader;
		pair.send_record(make_record(300, 100, 0, 3, std::string(100, 'a')));
		CHECK(reader.read(pair.receiver, 50) == Result::timeout);
		reader.reset();
		pair.send_record(make_record(4, 4, 0, 1, "next"));
		REQUIRE(reader.read(pair.receiver, hang_guard_ms) == Result::message);
		CHECK(message_of(reader) == "next");
	}
}
