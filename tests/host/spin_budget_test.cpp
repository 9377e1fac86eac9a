// SPDX-License-Identifier: Apache-2.0
// How long a ring's consumer looks again before it sleeps (host/isolation/spin_budget.hpp).
#include <isolation/spin_budget.hpp>

#include <doctest/doctest.h>

using drpc::host::isolation::SpinBudget;
using namespace std::chrono_literals;

TEST_CASE("a consumer starts sleeping at once") { CHECK(SpinBudget{}.now() == 0ns); }

TEST_CASE("sleeps a spin would have saved grow the budget, doubling up to the largest")
{
	SpinBudget budget;
	budget.slept(5us, true);
	CHECK(budget.now() == SpinBudget::first);
	budget.slept(5us, true);
	CHECK(budget.now() == 2 * SpinBudget::first);
	for (int i = 0; i < 10; ++i)
		budget.slept(0ns, true); // woken the moment the spin gave up
	CHECK(budget.now() == SpinBudget::default_largest);
}

TEST_CASE("a sleep counts with the spin before it: past the largest budget together, it shrinks")
{
	SpinBudget budget;
	for (int i = 0; i < 10; ++i)
		budget.slept(0ns, true);
	REQUIRE(budget.now() == SpinBudget::default_largest);
	// 100 us spun for nothing, then 1 us asleep: 101 us would have been needed.
	budget.slept(1us, true);
	CHECK(budget.now() == SpinBudget::default_largest / 2);
	// 50 us spun, then 50 us asleep: exactly the largest spin would have caught it.
	budget.slept(SpinBudget::default_largest - budget.now(), true);
	CHECK(budget.now() == SpinBudget::default_largest);
}

TEST_CASE("messages a millisecond apart take the budget back to zero in a few sleeps")
{
	SpinBudget budget;
	for (int i = 0; i < 10; ++i)
		budget.slept(0ns, true);
	int sleeps = 0;
	while (budget.now() != 0ns && sleeps < 100) {
		budget.slept(1ms, true);
		++sleeps;
	}
	CHECK(budget.now() == 0ns);
	CHECK(sleeps <= 4);
	budget.slept(1ms, true);
	CHECK(budget.now() == 0ns);
}

TEST_CASE("a wake without a message (a peer poking the futex, a stop, a timeout) never grows it")
{
	SpinBudget budget;
	for (int i = 0; i < 100; ++i)
		budget.slept(1us, false);
	CHECK(budget.now() == 0ns);
	for (int i = 0; i < 10; ++i)
		budget.slept(0ns, true);
	REQUIRE(budget.now() == SpinBudget::default_largest);
	budget.slept(1us, false);
	CHECK(budget.now() == SpinBudget::default_largest / 2);
}

TEST_CASE("a module's ring_spin_us bounds the budget; zero never spins")
{
	SpinBudget short_spin(5us);
	short_spin.slept(0ns, true);
	CHECK(short_spin.now() == 5us); // the first step capped too
	short_spin.slept(0ns, true);
	CHECK(short_spin.now() == 5us);
	short_spin.slept(1us, true);
	CHECK(short_spin.now() == 0ns); // 5 us spun, then 1 us asleep: past 5 us

	SpinBudget never(0ns);
	for (int i = 0; i < 10; ++i)
		never.slept(0ns, true);
	CHECK(never.now() == 0ns);
}
