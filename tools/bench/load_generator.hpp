// SPDX-License-Identifier: Apache-2.0
/// @file load_generator.hpp
/// Runs N connections, each on its own thread, calling in a closed loop and
/// timing every call; the same loop drives dRPC, the floor, and any other
/// load (a reload storm runs its reloads in `while_measuring`).
#pragma once

#include "machine_cpu.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace drpc::bench {

/// One connection's side of a load run.
class Caller {
public:
	virtual ~Caller() = default;
	/// Makes one call and waits for its answer; throws on any failure.
	virtual void call() = 0;
};

/// Makes connection number `index`'s Caller, on that connection's thread
/// (so connecting is not timed); may throw.
using CallerFactory = std::function<std::unique_ptr<Caller>(unsigned index)>;

struct LoadSpec {
	/// Names the connection threads (at most 15 characters), for perf and top.
	std::string thread_name = "load";
	unsigned connections = 1;
	/// Every connection calls this long before measuring starts.
	std::chrono::nanoseconds warmup = std::chrono::milliseconds(200);
	/// The measuring window, unless calls_per_connection is set.
	std::chrono::nanoseconds duration = std::chrono::seconds(1);
	/// Measured calls per connection instead of a duration (0: use duration).
	uint64_t calls_per_connection = 0;
	/// Run on the caller's thread when measuring starts; the window lasts
	/// until it returns and at least `duration` (in duration mode).
	std::function<void()> while_measuring;
};

struct LoadResult {
	/// One latency per measured call, every connection's, in no order.
	std::vector<int64_t> latencies_ns;
	/// Length of the measuring window.
	std::chrono::nanoseconds elapsed{};
	/// CPU time (user + system) of the whole process in the window: the
	/// cost of the load, which unlike latency hardly changes when other
	/// programs compete for the CPUs. An in-process server's threads count.
	std::chrono::nanoseconds cpu{};
	/// Context switches (voluntary and not) of the whole process in the window.
	uint64_t context_switches = 0;
	/// The whole machine's CPU ticks in the window; nothing when /proc/stat
	/// could not be read.
	std::optional<MachineCpu> machine;
	/// The first failure, "connection <i>: <what>"; empty when none. A
	/// failure stops the run.
	std::string error;

	[[nodiscard]] uint64_t calls() const noexcept { return latencies_ns.size(); }
	[[nodiscard]] double calls_per_second() const noexcept;
};

/// Connects `spec.connections` callers, warms up, measures. Blocks until
/// every thread has finished; never throws from a connection's thread.
[[nodiscard]] LoadResult run_load(const LoadSpec &spec, const CallerFactory &make_caller);

} // namespace drpc::bench
