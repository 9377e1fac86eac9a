// SPDX-License-Identifier: Apache-2.0
// MessageRing::stop() against the one interleaving that its loop exists for,
// played deterministically: the consumer has made its last look and is about
// to FUTEX_WAIT when stop() clears the doorbell and wakes nobody; the peer
// then rings the doorbell (writes 1), so the consumer's FUTEX_WAIT sleeps on
// a word that says "rung". stop() must not return before the consumer is out
// of wait(); a stop() that woke once would leave it asleep for good.
//
// An executable of its own: it interposes syscall() (the executable's own
// definition wins over libc's for the ring's code linked in here) to hold the
// consumer just before its FUTEX_WAIT, which no other suite should see.
#include "ring_memory.hpp"

#include <isolation/message_ring.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <cstdarg>
#include <dlfcn.h>
#include <future>
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h> // glibc's declaration, which the one below must match

using drpc::host::isolation::MessageRing;
using ring_test::RingMemory;

namespace {

/// The doorbell whose futex calls are watched; null: none.
std::atomic<uint32_t *> watched_doorbell{nullptr};
/// The next FUTEX_WAIT on the watched doorbell is held until a FUTEX_WAKE
/// on it has gone out, then rings the doorbell and waits.
std::atomic<bool> hold_next_wait{false};
std::atomic<bool> consumer_held{false};
std::atomic<int> wakes{0};

using Syscall = long (*)(long, ...);

Syscall real_syscall()
{
	static const auto real = reinterpret_cast<Syscall>(::dlsym(RTLD_NEXT, "syscall"));
	return real;
}

} // namespace

extern "C" long syscall(long number, ...) noexcept
{
	va_list arguments;
	va_start(arguments, number);
	long a[6];
	for (long &argument : a)
		argument = va_arg(arguments, long);
	va_end(arguments);
	uint32_t *const watched = watched_doorbell.load();
	if (number == SYS_futex && watched != nullptr && reinterpret_cast<uint32_t *>(a[0]) == watched) {
		const int op = static_cast<int>(a[1]) & FUTEX_CMD_MASK;
		if (op == FUTEX_WAKE) {
			const long woken = real_syscall()(number, a[0], a[1], a[2], a[3], a[4], a[5]);
			wakes.fetch_add(1);
			return woken;
		}
		if (op == FUTEX_WAIT && hold_next_wait.exchange(false)) {
			consumer_held.store(true);
			// stop()'s first wake finds nobody asleep...
			while (wakes.load() == 0)
				::sched_yield();
			// ...and the peer rings the doorbell it has just cleared.
			std::atomic_ref(*watched).store(1);
		}
	}
	return real_syscall()(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}

TEST_CASE("stop() returns only once the consumer is out, though the peer rang between its last look and its sleep")
{
	RingMemory memory;
	MessageRing consumer(memory.span());
	watched_doorbell.store(&memory.doorbell());
	wakes.store(0);
	consumer_held.store(false);
	hold_next_wait.store(true);
	auto waiting = std::async(std::launch::async, [&] { consumer.wait(std::chrono::milliseconds(-1)); });
	while (!consumer_held.load())
		std::this_thread::yield();

	consumer.stop();
	// Out at once with the loop; a stop() that woke once leaves it asleep.
	const bool out = waiting.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
	CHECK(out);
	CHECK(wakes.load() >= 2); // the first wake was lost by construction
	if (!out) {
		// Not to hang the suite on a failure: wake it as the peer would not.
		std::atomic_ref(memory.doorbell()).store(0);
		(void)real_syscall()(SYS_futex, &memory.doorbell(), FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
	}
	waiting.get();
	watched_doorbell.store(nullptr);
	CHECK(consumer.stopped());
}
