// SPDX-License-Identifier: Apache-2.0
// The link's send turn: one-record messages share it, a longer one has it
// alone, and a long one waiting keeps new one-record senders out, so a
// stream of small calls cannot hold a large one back for good.
#include <isolation/send_turn.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <shared_mutex>
#include <thread>

using drpc::host::isolation::SendTurn;

TEST_CASE("send turn: shared by one-record senders, and closed to them while a long message waits")
{
	SendTurn turn;
	std::shared_lock first(turn);
	CHECK(turn.try_lock_shared()); // one-record senders go together
	turn.unlock_shared();

	std::atomic<bool> long_sent{false};
	std::thread long_sender([&] {
		const std::unique_lock alone(turn);
		long_sent = true;
	});
	// Once the long sender waits, a new one-record sender must wait behind it.
	bool closed = false;
	for (int i = 0; i < 5000 && !closed; ++i) {
		if (turn.try_lock_shared()) {
			turn.unlock_shared();
			std::this_thread::sleep_for(std::chrono::milliseconds(1));
		} else
			closed = true;
	}
	CHECK(closed);
	CHECK_FALSE(long_sent);
	first.unlock();
	long_sender.join();
	CHECK(long_sent);
	CHECK(turn.try_lock_shared());
	turn.unlock_shared();
}
