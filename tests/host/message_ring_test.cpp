// SPDX-License-Identifier: Apache-2.0
// The rings small messages cross in between the host and a worker: every
// message out as it went in, across the wrap and across processes; a full
// ring says so instead of blocking; whatever the other side scribbles on the
// ring is caught as `broken` before it is used; a sleeping consumer is woken
// by a push and by stop(), and stop() returns with a peer ringing the
// doorbell all along; a peer poking the futex does not make the consumer spin.
#include "ring_memory.hpp"

#include <isolation/message_ring.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <cstring>
#include <linux/futex.h>
#include <string>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

using drpc::host::isolation::MessageRing;
using ring_test::RingMemory;
using Result = MessageRing::Result;

namespace {

std::vector<uint8_t> message_of(size_t size, uint32_t seed)
{
	std::vector<uint8_t> bytes(size);
	for (size_t i = 0; i < size; ++i)
		bytes[i] = static_cast<uint8_t>(seed * 31 + i * 7);
	return bytes;
}

std::vector<uint8_t> popped(const MessageRing &ring) { return {ring.message().begin(), ring.message().end()}; }

} // namespace

TEST_CASE("every message comes out as it went in, head and tail joined, across many laps of the ring")
{
	RingMemory memory;
	MessageRing producer(memory.span());
	MessageRing consumer(memory.span());
	CHECK(consumer.pop() == Result::empty);
	// Sizes that are not multiples of 8 move each record's start around
	// the ring, so records and their headers land on the wrap everywhere.
	const size_t sizes[] = {0, 1, 7, 8, 9, 63, 100, 4093, MessageRing::max_message_bytes};
	uint64_t total = 0;
	for (uint32_t i = 0; total < 5 * MessageRing::capacity; ++i) {
		const size_t size = sizes[i % std::size(sizes)];
		const std::vector<uint8_t> message = message_of(size, i);
		const size_t split = size / 3;
		REQUIRE(producer.push(std::span(message).first(split), std::span(message).subspan(split)) ==
		        Result::done);
		REQUIRE(consumer.pop() == Result::done);
		REQUIRE(popped(consumer) == message);
		total += size + 8;
	}
	CHECK(consumer.pop() == Result::empty);
}

TEST_CASE("a full ring, or a message too large for one, is `full` at once; room comes back as the consumer pops")
{
	RingMemory memory;
	MessageRing producer(memory.span());
	MessageRing consumer(memory.span());
	const std::vector<uint8_t> too_large(MessageRing::max_message_bytes + 1, 1);
	CHECK(producer.push(too_large) == Result::full);

	const std::vector<uint8_t> message = message_of(1000, 3);
	size_t pushed = 0;
	while (producer.push(message) == Result::done)
		++pushed;
	CHECK(pushed == MessageRing::capacity / 1008);
	CHECK(producer.push(message) == Result::full);
	REQUIRE(consumer.pop() == Result::done);
	CHECK(producer.push(message) == Result::done);
	for (size_t i = 0; i < pushed; ++i) {
		REQUIRE(consumer.pop() == Result::done);
		CHECK(popped(consumer) == message);
	}
	CHECK(consumer.pop() == Result::empty);
}

TEST_CASE("a consumer checks what the producer wrote before it reads a byte of it")
{
	RingMemory memory;
	MessageRing producer(memory.span());
	MessageRing consumer(memory.span());
	const std::vector<uint8_t> message = message_of(100, 1);

	SUBCASE("the producer's position more than a ring ahead")
	{
		memory.head() = MessageRing::capacity + 8;
		CHECK(consumer.pop() == Result::broken);
		CHECK(std::string(consumer.fault()).find("producer's position") != std::string::npos);
	}
	SUBCASE("the producer's position behind the consumer's")
	{
		memory.head() = UINT64_MAX - 7;
		CHECK(consumer.pop() == Result::broken);
	}
	SUBCASE("the producer's position not on a record's edge")
	{
		memory.head() = 12;
		CHECK(consumer.pop() == Result::broken);
	}
	SUBCASE("a length that does not match its check")
	{
		REQUIRE(producer.push(message) == Result::done);
		memory.data()[0] ^= 0x40;
		CHECK(consumer.pop() == Result::broken);
		CHECK(std::string(consumer.fault()).find("check") != std::string::npos);
	}
	SUBCASE("a length past what was queued, with a matching check")
	{
		REQUIRE(producer.push(message) == Result::done);
		const uint32_t header[2] = {4000, ~uint32_t{4000}};
		std::memcpy(memory.data(), header, sizeof(header));
		CHECK(consumer.pop() == Result::broken);
		CHECK(std::string(consumer.fault()).find("longer") != std::string::npos);
	}
	SUBCASE("a length past a ring message, the whole ring queued")
	{
		const uint32_t header[2] = {UINT32_MAX - 1, 1};
		std::memcpy(memory.data(), header, sizeof(header));
		memory.head() = MessageRing::capacity;
		CHECK(consumer.pop() == Result::broken);
	}
}

TEST_CASE("a producer checks the consumer's position before it trusts the room it implies")
{
	RingMemory memory;
	MessageRing producer(memory.span());
	const std::vector<uint8_t> message = message_of(100, 2);
	REQUIRE(producer.push(message) == Result::done);

	SUBCASE("ahead of what was pushed")
	{
		memory.tail() = 4096;
		CHECK(producer.push(message) == Result::broken);
		CHECK(std::string(producer.fault()).find("consumer's position") != std::string::npos);
	}
	SUBCASE("not on a record's edge")
	{
		memory.tail() = 4;
		CHECK(producer.push(message) == Result::broken);
	}
	SUBCASE("a consumer that stays behind only fills the ring")
	{
		memory.tail() = 0;
		while (producer.push(message) == Result::done) {
		}
		CHECK(producer.push(message) == Result::full);
	}
}

TEST_CASE("a consumer asleep on an empty ring is woken by each push from another process, none lost")
{
	RingMemory memory;
	constexpr uint32_t messages = 20000;
	const pid_t child = ::fork();
	REQUIRE(child >= 0);
	if (child == 0) {
		// The producer: bursts and pauses, so the consumer both keeps up
		// and falls asleep between messages.
		MessageRing producer(memory.span());
		for (uint32_t i = 0; i < messages; ++i) {
			const std::vector<uint8_t> message = message_of(16 + i % 200, i);
			while (producer.push(message) == Result::full)
				std::this_thread::yield();
			if (i % 64 == 0)
				std::this_thread::sleep_for(std::chrono::microseconds(50));
		}
		::_exit(0);
	}
	MessageRing consumer(memory.span());
	uint32_t received = 0;
	bool in_order = true;
	while (received < messages) {
		const Result result = consumer.pop();
		REQUIRE(result != Result::broken);
		if (result == Result::empty) {
			// A lost wake-up would hang here: the suite's timeout fails it.
			consumer.wait(std::chrono::milliseconds(-1));
			continue;
		}
		in_order = in_order && popped(consumer) == message_of(16 + received % 200, received);
		++received;
	}
	CHECK(in_order);
	int status = 0;
	REQUIRE(::waitpid(child, &status, 0) == child);
	CHECK(WIFEXITED(status));
	CHECK(consumer.pop() == Result::empty);
}

TEST_CASE("stop() wakes a consumer asleep with no timeout, and every wait() after it returns at once")
{
	RingMemory memory;
	MessageRing consumer(memory.span());
	std::atomic<bool> returned{false};
	std::thread sleeper([&] {
		consumer.wait(std::chrono::milliseconds(-1));
		returned = true;
	});
	std::this_thread::sleep_for(std::chrono::milliseconds(20));
	consumer.stop();
	sleeper.join();
	CHECK(returned);
	CHECK(consumer.stopped());
	consumer.wait(std::chrono::milliseconds(-1));
	CHECK(consumer.pop() == Result::empty);
}

TEST_CASE("stop() gets a consumer out of wait() while a peer keeps ringing its doorbell")
{
	// A peer that writes 1 into the doorbell keeps FUTEX_WAIT sleeping; stop()
	// must still get the consumer out, and return only once it is out.
	for (int round = 0; round < 50; ++round) {
		RingMemory memory;
		MessageRing consumer(memory.span());
		std::atomic<bool> ringing{true};
		std::thread peer([&] {
			while (ringing)
				std::atomic_ref(memory.doorbell()).store(1);
		});
		std::atomic<bool> in_wait{false};
		std::atomic<bool> returned{false};
		std::thread sleeper([&] {
			in_wait = true;
			consumer.wait(std::chrono::milliseconds(-1));
			returned = true;
		});
		while (!in_wait)
			std::this_thread::yield();
		if (round % 2 == 0)
			std::this_thread::sleep_for(std::chrono::milliseconds(1)); // asleep by now
		consumer.stop();
		sleeper.join();
		ringing = false;
		peer.join();
		CHECK(returned);
	}
}

TEST_CASE("a peer poking the futex with nothing queued does not make the consumer spin")
{
	RingMemory memory;
	MessageRing consumer(memory.span());
	std::atomic<bool> done{false};
	std::thread poker([&] {
		while (!done) {
			std::atomic_ref(memory.doorbell()).store(0);
			(void)::syscall(SYS_futex, &memory.doorbell(), FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
		}
	});
	// With the back-off a wait() lasts about a millisecond once it has been
	// woken for nothing a few times; without it, microseconds.
	const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
	unsigned waits = 0;
	while (std::chrono::steady_clock::now() < until) {
		consumer.wait(std::chrono::milliseconds(1000));
		++waits;
	}
	done = true;
	poker.join();
	CHECK(waits <= 250);
	CHECK(consumer.pop() == Result::empty);
}
