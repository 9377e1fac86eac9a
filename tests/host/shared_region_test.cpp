// SPDX-License-Identifier: Apache-2.0
// The region a host shares with a worker for large bodies: sealed so that a
// worker cannot make the host fault, and answers read from it only within
// bounds; the worker's answer goes to the slot or the message as it should.
#include <isolation/relay_header.hpp>
#include <isolation/shared_region.hpp>
#include <isolation/worker_answer.hpp>

#include <drpc/error.hpp>

#include <doctest/doctest.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

using drpc::host::isolation::answer_in_slot_magic;
using drpc::host::isolation::answer_inline_magic;
using drpc::host::isolation::AnswerHeader;
using drpc::host::isolation::encode_answer_header;
using drpc::host::isolation::read_answer;
using drpc::host::isolation::SharedRegion;
using drpc::host::isolation::WorkerAnswer;

namespace {

/// A message body as the worker's server keeps it.
class MessageBody : public drpc::ResponseBody {
public:
	std::span<uint8_t> reserve(size_t size) noexcept override
	{
		bytes.assign(size, 0);
		return bytes;
	}
	std::vector<uint8_t> bytes;
};

std::span<const uint8_t> as_bytes(const std::string &text)
{
	return {reinterpret_cast<const uint8_t *>(text.data()), text.size()};
}

std::string text_of(std::span<const uint8_t> bytes)
{
	return {reinterpret_cast<const char *>(bytes.data()), bytes.size()};
}

std::vector<uint8_t> with_header(AnswerHeader header, const std::string &after = "")
{
	const auto bytes = encode_answer_header(header);
	std::vector<uint8_t> body(bytes.begin(), bytes.end());
	body.insert(body.end(), after.begin(), after.end());
	return body;
}

} // namespace

TEST_CASE("shared region: sealed against resizing, its areas apart, the same pages in both mappings")
{
	SharedRegion host = SharedRegion::create("test");
	REQUIRE(host.fd() >= 0);
	CHECK(::ftruncate(host.fd(), 4096) == -1);
	CHECK(errno == EPERM);
	CHECK(::ftruncate(host.fd(), static_cast<off_t>(SharedRegion::total_bytes) * 2) == -1);
	CHECK(errno == EPERM);
	CHECK(::fcntl(host.fd(), F_ADD_SEALS, F_SEAL_WRITE) == -1); // F_SEAL_SEAL: no seal changes any more

	SharedRegion worker = SharedRegion::adopt(::fcntl(host.fd(), F_DUPFD_CLOEXEC, 0));
	CHECK(worker.fd() == -1); // adopt() keeps only the mapping
	for (uint32_t slot = 0; slot < SharedRegion::slot_count; ++slot) {
		CHECK(host.call_area(slot).size() == SharedRegion::area_bytes);
		CHECK(host.answer_area(slot).data() == host.call_area(slot).data() + SharedRegion::area_bytes);
		host.call_area(slot).back() = static_cast<uint8_t>(slot + 1);
		worker.answer_area(slot).front() = static_cast<uint8_t>(slot + 100);
	}
	for (uint32_t slot = 0; slot < SharedRegion::slot_count; ++slot) {
		CHECK(worker.call_area(slot).back() == slot + 1);
		CHECK(host.answer_area(slot).front() == slot + 100);
	}
	// The rings first, then the slots, nothing shared between them.
	CHECK(host.call_ring().size() == drpc::host::isolation::MessageRing::bytes);
	CHECK(host.answer_ring().data() == host.call_ring().data() + host.call_ring().size());
	CHECK(host.call_area(0).data() == host.answer_ring().data() + host.answer_ring().size());
	CHECK(host.answer_area(SharedRegion::slot_count - 1).data() + SharedRegion::area_bytes ==
	      host.call_ring().data() + SharedRegion::total_bytes);
	host.answer_ring().front() = 9;
	CHECK(worker.answer_ring().front() == 9);
}

TEST_CASE("shared region: a worker refuses a memfd of the wrong size or unsealed")
{
	SUBCASE("unsealed")
	{
		const int fd = ::memfd_create("unsealed", MFD_CLOEXEC);
		REQUIRE(fd >= 0);
		REQUIRE(::ftruncate(fd, static_cast<off_t>(SharedRegion::total_bytes)) == 0);
		CHECK_THROWS_WITH_AS((void)SharedRegion::adopt(fd), "shared region: not sealed against resizing",
		                     drpc::Error);
	}
	SUBCASE("wrong size")
	{
		const int fd = ::memfd_create("small", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		REQUIRE(fd >= 0);
		REQUIRE(::ftruncate(fd, 4096) == 0);
		CHECK_THROWS_WITH_AS((void)SharedRegion::adopt(fd),
		                     ("shared region: 4096 bytes, not the " +
		                      std::to_string(SharedRegion::total_bytes) + " this build expects")
		                             .c_str(),
		                     drpc::Error);
	}
	SUBCASE("not a file") { CHECK_THROWS_AS((void)SharedRegion::adopt(-1), drpc::SystemError); }
}

TEST_CASE("shared region: the host reads an answer only where the worker may have put it")
{
	std::vector<uint8_t> area(64, 'a');
	const std::span<const uint8_t> slot(area);

	CHECK(read_answer({}, slot)->empty());
	CHECK(text_of(*read_answer(with_header({.magic = answer_inline_magic}, "inline"), slot)) == "inline");
	CHECK(text_of(*read_answer(with_header({.magic = answer_inline_magic}, "no slot"), {})) == "no slot");
	CHECK(read_answer(with_header({.magic = answer_in_slot_magic, .bytes_in_slot = 64}), slot)->data() ==
	      area.data());
	CHECK(read_answer(with_header({.magic = answer_in_slot_magic, .bytes_in_slot = 64}), slot)->size() == 64);

	// What a broken or hostile worker might send.
	CHECK_FALSE(read_answer(with_header({.magic = answer_in_slot_magic, .bytes_in_slot = 65}), slot));
	CHECK_FALSE(read_answer(with_header({.magic = answer_in_slot_magic, .bytes_in_slot = 1}), {}));
	CHECK_FALSE(read_answer(with_header({.magic = answer_in_slot_magic, .bytes_in_slot = 4}, "more"), slot));
	CHECK_FALSE(read_answer(with_header({.magic = 0x12345678}, "what"), slot));
	CHECK_FALSE(read_answer(as_bytes("DRA1"), slot));
	CHECK_FALSE(read_answer(as_bytes("plain bytes, no header"), slot));
}

TEST_CASE("shared region: a worker's answer goes to the slot when large, else after a header in the message")
{
	std::vector<uint8_t> area(SharedRegion::area_bytes);
	MessageBody message;
	const auto read_back = [&] { return read_answer(message.bytes, area); };

	SUBCASE("small: in the message")
	{
		WorkerAnswer answer(message, area);
		const std::span<uint8_t> buffer = answer.reserve(5);
		REQUIRE(buffer.size() == 5);
		std::memcpy(buffer.data(), "hello", 5);
		REQUIRE(answer.finish());
		CHECK(message.bytes.size() == sizeof(AnswerHeader) + 5);
		CHECK(text_of(*read_back()) == "hello");
	}
	SUBCASE("large: in the slot, the message only its header")
	{
		WorkerAnswer answer(message, area);
		const std::span<uint8_t> buffer = answer.reserve(SharedRegion::min_body_bytes);
		REQUIRE(buffer.data() == area.data());
		std::memset(buffer.data(), 'z', buffer.size());
		REQUIRE(answer.finish());
		CHECK(message.bytes.size() == sizeof(AnswerHeader));
		CHECK(read_back()->size() == SharedRegion::min_body_bytes);
		CHECK(read_back()->data() == area.data());
	}
	SUBCASE("larger than the slot: in the message")
	{
		WorkerAnswer answer(message, area);
		const std::span<uint8_t> buffer = answer.reserve(SharedRegion::area_bytes + 1);
		REQUIRE(buffer.size() == SharedRegion::area_bytes + 1);
		CHECK(buffer.data() == message.bytes.data() + sizeof(AnswerHeader));
		REQUIRE(answer.finish());
		CHECK(read_back()->size() == SharedRegion::area_bytes + 1);
	}
	SUBCASE("large without a slot: in the message")
	{
		WorkerAnswer answer(message, {});
		REQUIRE(answer.reserve(SharedRegion::min_body_bytes).size() == SharedRegion::min_body_bytes);
		REQUIRE(answer.finish());
		CHECK(message.bytes.size() == sizeof(AnswerHeader) + SharedRegion::min_body_bytes);
	}
	SUBCASE("reserved again: the last reserve is the answer")
	{
		WorkerAnswer answer(message, area);
		(void)answer.reserve(3);
		std::span<uint8_t> buffer = answer.reserve(SharedRegion::min_body_bytes);
		REQUIRE(buffer.data() == area.data());
		REQUIRE(answer.finish());
		CHECK(read_back()->size() == SharedRegion::min_body_bytes);

		WorkerAnswer again(message, area);
		(void)again.reserve(SharedRegion::min_body_bytes);
		buffer = again.reserve(2);
		std::memcpy(buffer.data(), "ok", 2);
		REQUIRE(again.finish());
		CHECK(text_of(*read_back()) == "ok");
	}
	SUBCASE("nothing reserved: an empty answer")
	{
		WorkerAnswer answer(message, area);
		REQUIRE(answer.finish());
		CHECK(message.bytes.empty());
		CHECK(read_back()->empty());
	}
}
