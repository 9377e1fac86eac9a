// SPDX-License-Identifier: Apache-2.0
// Running a relayed call on its caller's CPU: the host thread is held on its
// CPU for the call and given its CPUs back, a worker thread goes where the
// header says (or back to the worker's CPUs), and each CPU has one home
// connection, lost with a failed call and made anew; none is placed while
// more relayed calls are in flight than the host has CPUs.
#include "host_support.hpp"
#include "thread_defaults.hpp"

#include <isolation/call_placement.hpp>
#include <isolation/worker_connections.hpp>

#include <drpc/server.hpp>

#include <doctest/doctest.h>

#include <pthread.h>
#include <sched.h>
#include <thread>
#include <unistd.h>

using drpc::host::isolation::any_cpu;
using drpc::host::isolation::CallerPin;
using drpc::host::isolation::current_cpu;
using drpc::host::isolation::HeldCpus;
using drpc::host::isolation::SharedRegion;
using drpc::host::isolation::ThreadPlacement;
using drpc::host::isolation::WorkerConnections;
using drpc::host::isolation::WorkerLease;

namespace {

cpu_set_t cpus_of_this_thread()
{
	cpu_set_t set;
	CPU_ZERO(&set);
	REQUIRE(::sched_getaffinity(0, sizeof(set), &set) == 0);
	return set;
}

cpu_set_t only(int32_t cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return set;
}

bool same(const cpu_set_t &a, const cpu_set_t &b) { return CPU_EQUAL(&a, &b) != 0; }

/// A CPU this thread may not run on (there is one below CPU_SETSIZE on any
/// machine this runs on).
int32_t cpu_outside(const cpu_set_t &set)
{
	for (int32_t cpu = 0; cpu < CPU_SETSIZE; ++cpu)
		if (!CPU_ISSET(cpu, &set))
			return cpu;
	FAIL("every CPU is allowed");
	return any_cpu;
}

/// A worker's socket served here, and the connections of two modules to it,
/// which share `held`.
struct TwoModules {
	explicit TwoModules(HeldCpus &held)
		: first(socket, ::getuid(), ::getpid(), SharedRegion::create("placement-test"), held),
		  second(socket, ::getuid(), ::getpid(), SharedRegion::create("placement-test"), held)
	{
		server.start();
	}
	~TwoModules() { server.shutdown(); }
	TwoModules(const TwoModules &) = delete;
	TwoModules &operator=(const TwoModules &) = delete;

	host_test::TempDir dir;
	const std::filesystem::path socket = dir.path() / "worker.sock";
	drpc::DomainSocketServer server{socket, 0600};
	WorkerConnections first;
	WorkerConnections second;
};

} // namespace

TEST_CASE("call placement: the relaying thread is held on its CPU for the call, then given its CPUs back")
{
	const cpu_set_t before = cpus_of_this_thread();
	const int32_t cpu = current_cpu();
	REQUIRE(cpu != any_cpu);
	{
		const CallerPin pin(cpu);
		CHECK(pin.cpu() == cpu);
		CHECK(same(cpus_of_this_thread(), only(cpu)));
		CHECK(::sched_getcpu() == cpu);
	}
	CHECK(same(cpus_of_this_thread(), before));

	SUBCASE("nothing asked, nothing held")
	{
		const CallerPin pin(any_cpu);
		CHECK(pin.cpu() == any_cpu);
		CHECK(same(cpus_of_this_thread(), before));
	}
	SUBCASE("a CPU the thread may not use, or none at all, is not taken")
	{
		for (const int32_t refused : {cpu_outside(before), int32_t{CPU_SETSIZE}, int32_t{-7}}) {
			const CallerPin pin(refused);
			CHECK(pin.cpu() == any_cpu);
			CHECK(same(cpus_of_this_thread(), before));
		}
	}
}

TEST_CASE("call placement: a worker thread runs where the header says, or on the worker's own CPUs")
{
	const cpu_set_t own = cpus_of_this_thread();
	const int32_t cpu = current_cpu();
	REQUIRE(cpu != any_cpu);
	const test_support::KeptThreadDefaults kept;
	const ThreadPlacement placement;

	cpu_set_t asked{}, anywhere{}, refused{}, started{}, started_with_attributes{}, placed_later{};
	std::thread([&] {
		placement.run_here(cpu);
		asked = cpus_of_this_thread();
		placement.run_here(any_cpu);
		anywhere = cpus_of_this_thread();
		placement.run_here(cpu_outside(own));
		refused = cpus_of_this_thread();

		// What a plugin starts inside a placed call is not held on its CPU...
		placement.run_here(cpu);
		std::thread([&] { started = cpus_of_this_thread(); }).join();
		// ...unless it gives attributes of its own: that thread inherits
		// the pin, and its first call puts it where that call asks,
		// whatever it remembers.
		pthread_attr_t attributes;
		REQUIRE(::pthread_attr_init(&attributes) == 0);
		REQUIRE(::pthread_attr_setstacksize(&attributes, 1 << 20) == 0);
		struct Seen {
			const ThreadPlacement &placement;
			cpu_set_t &at_start, &after_call;
		} seen{placement, started_with_attributes, placed_later};
		pthread_t thread{};
		REQUIRE(::pthread_create(
				&thread, &attributes,
				[](void *arg) -> void * {
					auto &what = *static_cast<Seen *>(arg);
					what.at_start = cpus_of_this_thread();
					what.placement.run_here(any_cpu);
					what.after_call = cpus_of_this_thread();
					return nullptr;
				},
				&seen) == 0);
		REQUIRE(::pthread_join(thread, nullptr) == 0);
		::pthread_attr_destroy(&attributes);
	}).join();
	CHECK(same(asked, only(cpu)));
	CHECK(same(anywhere, own));
	CHECK(same(refused, own));
	CHECK(same(started, own));
	CHECK(same(started_with_attributes, only(cpu)));
	CHECK(same(placed_later, own));
}

TEST_CASE("call placement: a change of the worker's CPUs is taken up by the calls and threads after it")
{
	const cpu_set_t own = cpus_of_this_thread();
	if (CPU_COUNT(&own) < 2) {
		MESSAGE("one CPU: nothing to narrow");
		return;
	}
	int32_t first = any_cpu, second = any_cpu;
	for (int32_t cpu = 0; cpu < CPU_SETSIZE && second == any_cpu; ++cpu)
		if (CPU_ISSET(cpu, &own))
			(first == any_cpu ? first : second) = cpu;
	const test_support::KeptThreadDefaults kept;
	ThreadPlacement placement;

	// An administrator narrows the worker to one CPU (taskset -p), then its
	// main thread looks.
	const cpu_set_t narrowed = only(first);
	REQUIRE(::sched_setaffinity(0, sizeof(narrowed), &narrowed) == 0);
	placement.refresh();
	cpu_set_t anywhere{}, refused{}, started{};
	std::thread([&] {
		placement.run_here(any_cpu);
		anywhere = cpus_of_this_thread();
		placement.run_here(second);
		refused = cpus_of_this_thread();
		std::thread([&] { started = cpus_of_this_thread(); }).join();
	}).join();
	REQUIRE(::sched_setaffinity(0, sizeof(own), &own) == 0);
	CHECK(same(anywhere, narrowed));
	CHECK(same(refused, narrowed));
	CHECK(same(started, narrowed));
}

TEST_CASE("worker connections: one home connection per CPU, kept for the next call there, made anew when lost")
{
	host_test::TempDir dir;
	const std::filesystem::path socket = dir.path() / "worker.sock";
	drpc::DomainSocketServer server{socket, 0600};
	server.start();
	// Room for every call below to be placed, whatever CPUs this machine has.
	HeldCpus held(drpc::host::isolation::placeable_cpus(), 8);
	WorkerConnections connections(socket, ::getuid(), ::getpid(), SharedRegion::create("placement-test"), held);

	WorkerLease home = connections.take(0);
	CHECK(home.home_cpu() == 0);
	REQUIRE(home.connection);
	const drpc::ClientConnection *home_connection = home.connection.get();

	// Held by a call: the next caller on that CPU gets a pooled connection.
	WorkerLease pooled = connections.take(0);
	CHECK(pooled.home_cpu() == any_cpu);
	REQUIRE(pooled.connection);
	const drpc::ClientConnection *pooled_connection = pooled.connection.get();
	CHECK(connections.take(any_cpu).home_cpu() == any_cpu);
	CHECK(connections.take(CPU_SETSIZE).home_cpu() == any_cpu);

	connections.give_back(std::move(pooled));
	connections.give_back(std::move(home));
	WorkerLease again = connections.take(0);
	CHECK(again.home_cpu() == 0);
	CHECK(again.connection.get() == home_connection);

	// Its call failed (never given back): the CPU's next home connection is
	// an idle one of the pool, not one more.
	{
		const WorkerLease lost = std::move(again);
	}
	WorkerLease fresh = connections.take(0);
	CHECK(fresh.home_cpu() == 0);
	CHECK(fresh.connection.get() == pooled_connection);
	connections.give_back(std::move(fresh));
	server.shutdown();
}

TEST_CASE("worker connections: a CPU's home is let go when its connection cannot be made or its lease is overwritten")
{
	host_test::TempDir dir;
	const std::filesystem::path socket = dir.path() / "worker.sock";
	HeldCpus held(drpc::host::isolation::placeable_cpus(), 8);
	WorkerConnections connections(socket, ::getuid(), ::getpid(), SharedRegion::create("placement-test"), held);

	// Nobody listens yet: no connection, and CPU 0 is not left taken.
	CHECK_THROWS(static_cast<void>(connections.take(0)));
	drpc::DomainSocketServer server{socket, 0600};
	server.start();
	WorkerLease home = connections.take(0);
	CHECK(home.home_cpu() == 0);

	// A held home lease overwritten (its call given up): CPU 0's home is free again.
	home = connections.take(any_cpu);
	CHECK(home.home_cpu() == any_cpu);
	WorkerLease again = connections.take(0);
	CHECK(again.home_cpu() == 0);
	connections.give_back(std::move(again));
	connections.give_back(std::move(home));
	server.shutdown();
}

TEST_CASE("worker connections: one call per CPU runs placed, whatever module it is for")
{
	// One CPU to place on, room for more calls in flight: never crowded here.
	HeldCpus held(1, 8);
	CHECK_FALSE(held.take(any_cpu));
	CHECK_FALSE(held.take(1));

	TwoModules modules(held);
	WorkerConnections &first = modules.first;
	WorkerConnections &second = modules.second;

	WorkerLease placed = first.take(0);
	CHECK(placed.home_cpu() == 0);
	// Another module's call on that CPU meanwhile runs where the scheduler puts it.
	WorkerLease elsewhere = second.take(0);
	CHECK(elsewhere.home_cpu() == any_cpu);
	second.give_back(std::move(elsewhere));
	first.give_back(std::move(placed));
	WorkerLease next = second.take(0);
	CHECK(next.home_cpu() == 0);

	// A call that failed (its lease never given back) frees the CPU as well.
	{
		const WorkerLease lost = std::move(next);
	}
	CHECK(first.take(0).home_cpu() == 0);
}

TEST_CASE("worker connections: no call is placed while more relayed calls are in flight than the host has CPUs")
{
	HeldCpus held(1);
	TwoModules modules(held);
	WorkerConnections &first = modules.first;
	WorkerConnections &second = modules.second;

	WorkerLease placed = first.take(0);
	CHECK(placed.home_cpu() == 0);
	// Another module's call in flight: the host has more than its one CPU.
	WorkerLease other = second.take(any_cpu);
	CHECK(held.crowded());
	first.give_back(std::move(placed));
	// CPU 0 is free, but two calls are in flight: this one is not placed.
	WorkerLease crowded = first.take(0);
	CHECK(crowded.home_cpu() == any_cpu);
	first.give_back(std::move(crowded));

	// A call given back, and one lost (never given back), no longer count.
	second.give_back(std::move(other));
	{
		const WorkerLease lost = second.take(any_cpu);
	}
	CHECK_FALSE(held.crowded());
	// Not even one count left over: this call is the only one in flight.
	{
		WorkerLease alone = first.take(0);
		CHECK(alone.home_cpu() == 0);
		first.give_back(std::move(alone));
	}
	// A lease moved counts once, and stops counting once.
	{
		WorkerLease moved = first.take(0);
		WorkerLease holder = std::move(moved);
		CHECK(holder.home_cpu() == 0);
		CHECK_FALSE(held.crowded());
		first.give_back(std::move(holder));
	}
	CHECK_FALSE(held.crowded());
	CHECK(first.take(0).home_cpu() == 0);
}
