// SPDX-License-Identifier: Apache-2.0
/// @file spin_budget.hpp
/// How long a ring's consumer looks again before it sleeps on the futex,
/// learned from how long its sleeps turn out to be (message_ring.hpp).
///
/// Why: a call to an isolated module wakes a sleeping thread on each of its
/// four hops where the floor wakes two, and a wake-up from sleep costs a
/// futex, a context switch and, on a CPU gone idle, the kernel's (or a
/// VM's hypervisor's) wake from idle. When the next message comes within a
/// few tens of microseconds, looking again until then (yielding the CPU to
/// anything runnable in between) costs less than sleeping. When messages
/// come further apart, it only burns CPU: so the budget grows after each
/// sleep that a spin of the largest budget would have saved, and halves
/// after each sleep that even that would not have, the way the kernel's
/// haltpoll governor sizes a guest's polling. A consumer whose messages come
/// a millisecond apart spins for nothing only until the budget halves to
/// zero, a few sleeps.
#pragma once

#include <algorithm>
#include <chrono>

namespace drpc::host::isolation {

class SpinBudget {
public:
	using Duration = std::chrono::nanoseconds;
	/// The budget after the first sleep that a spin would have saved.
	static constexpr Duration first = std::chrono::microseconds(10);
	/// The largest budget unless the module's ring_spin_us says otherwise
	/// (IsolationSettings::default_ring_spin_us, checked equal in worker_args.cpp).
	static constexpr std::chrono::microseconds default_largest{100};

	/// `largest`: sleeps longer than this are not worth spinning for (zero:
	/// never spin).
	explicit SpinBudget(Duration largest = default_largest) noexcept : largest_(largest) {}

	/// How long to look again before sleeping (zero: sleep at once).
	[[nodiscard]] Duration now() const noexcept { return budget_; }

	/// The consumer spun now() for nothing, then slept `slept` and woke
	/// `with_message` or not. Only a wake with a message may grow the
	/// budget: a peer that pokes the futex (or a stop, or a timeout) cannot
	/// make the host spin.
	void slept(Duration slept, bool with_message) noexcept
	{
		if (with_message && slept <= largest_ - budget_)
			budget_ = std::min(budget_ == Duration::zero() ? first : 2 * budget_, largest_);
		else
			budget_ = budget_ < 2 * first ? Duration::zero() : budget_ / 2;
	}

private:
	Duration largest_;
	Duration budget_ = Duration::zero();
};

} // namespace drpc::host::isolation
