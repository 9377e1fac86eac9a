// SPDX-License-Identifier: Apache-2.0
// Runs a case: rounds that alternate dRPC and the floor, merged into one
// figure per side, and the verdict against the case's target.
#include "benchmark.hpp"

#include "floor_server.hpp"
#include "load_generator.hpp"

#include <cmath>
#include <stdexcept>

namespace drpc::bench {
namespace {

/// Calls up to this size are "small": their cost is the round trip, not the copying.
constexpr size_t small_bytes = 4096;
constexpr double small_single_ratio = 0.7;
constexpr double small_multi_ratio = 0.6;
constexpr size_t bulk_bytes = size_t{1} << 20;
constexpr double bulk_bytes_per_second = 1e9;

/// Accumulates the rounds of one side.
struct SideRuns {
	std::vector<int64_t> latencies_ns;
	std::chrono::nanoseconds elapsed{};
	std::chrono::nanoseconds cpu{};
	uint64_t context_switches = 0;
	std::optional<MachineCpu> machine = MachineCpu{};

	void add(LoadResult &&run, const char *side)
	{
		if (!run.error.empty())
			throw std::runtime_error(std::string(side) + " " + run.error);
		latencies_ns.insert(latencies_ns.end(), run.latencies_ns.begin(), run.latencies_ns.end());
		elapsed += run.elapsed;
		cpu += run.cpu;
		context_switches += run.context_switches;
		if (machine && run.machine)
			*machine += *run.machine;
		else
			machine.reset(); // a share over some of the rounds would mislead
	}

	SideResult finish(size_t call_bytes)
	{
		SideResult result;
		result.seconds = std::chrono::duration<double>(elapsed).count();
		const auto calls = static_cast<double>(latencies_ns.size());
		result.calls_per_second = result.seconds > 0 ? calls / result.seconds : 0;
		result.bytes_per_second = result.calls_per_second * static_cast<double>(call_bytes);
		if (calls > 0) {
			result.cpu_us_per_call = std::chrono::duration<double, std::micro>(cpu).count() / calls;
			result.switches_per_call = static_cast<double>(context_switches) / calls;
		}
		if (machine && machine->total() > 0) {
			const auto total = static_cast<double>(machine->total());
			result.idle_share = static_cast<double>(machine->idle) / total;
			result.steal_share = static_cast<double>(machine->steal) / total;
		}
		result.latency = summarize(latencies_ns);
		return result;
	}
};

} // namespace

Target target_for(const Case &spec)
{
	if (spec.payload_bytes <= small_bytes)
		return {Target::Kind::ratio, spec.connections == 1 ? small_single_ratio : small_multi_ratio};
	if (spec.payload_bytes >= bulk_bytes)
		return {Target::Kind::throughput, bulk_bytes_per_second};
	return {};
}

namespace {

/// `measured` (the "drpc" side of the result, called `side` in errors and
/// thread names) and the floor, alternated.
CaseResult run_sides(const Options &options, const Case &spec, const CallPlan &plan, const char *side,
                     const CallerFactory &measured, const std::filesystem::path &floor_socket)
{
	const std::vector<size_t> records = floor_records(plan.encoded_bytes);

	LoadSpec load;
	load.connections = spec.connections;
	load.warmup = std::chrono::duration_cast<std::chrono::nanoseconds>(options.warmup);
	load.duration = std::chrono::duration_cast<std::chrono::nanoseconds>(options.seconds / options.rounds);
	load.calls_per_connection = options.calls == 0 ? 0 : (options.calls + options.rounds - 1) / options.rounds;

	const CallerFactory floor_caller = [&](unsigned) {
		return std::make_unique<FloorCaller>(floor_socket, records);
	};

	SideRuns drpc;
	SideRuns floor;
	for (unsigned round = 0; round < options.rounds; ++round) {
		load.thread_name = std::string(side) + "-client";
		drpc.add(run_load(load, measured), side);
		load.thread_name = "floor-client";
		floor.add(run_load(load, floor_caller), "floor");
	}

	CaseResult result;
	result.spec = spec;
	result.call_bytes = plan.encoded_bytes;
	result.records = framing::chunk_count(plan.encoded_bytes);
	result.drpc = drpc.finish(plan.encoded_bytes);
	result.floor = floor.finish(plan.encoded_bytes);
	result.ratio =
		result.floor.calls_per_second > 0 ? result.drpc.calls_per_second / result.floor.calls_per_second : 0;
	result.target = target_for(spec);
	switch (result.target.kind) {
	case Target::Kind::none:
		result.pass = true;
		break;
	case Target::Kind::ratio:
		result.pass = result.ratio >= result.target.threshold;
		break;
	case Target::Kind::throughput:
		result.pass = result.drpc.bytes_per_second >= result.target.threshold;
		break;
	}
	return result;
}

} // namespace

CaseResult run_case(const Options &options, const Case &spec, const CallPlan &plan,
                    const std::filesystem::path &drpc_socket, const std::filesystem::path &floor_socket)
{
	return run_sides(
		options, spec, plan, "drpc",
		[&](unsigned) { return std::make_unique<DrpcCaller>(drpc_socket, plan.call); }, floor_socket);
}

CaseResult run_relay_case(const Options &options, const Case &spec, const CallPlan &plan,
                          const std::filesystem::path &relay_socket, const std::filesystem::path &floor_socket)
{
	const std::vector<size_t> records = floor_records(plan.encoded_bytes);
	CaseResult result = run_sides(
		options, spec, plan, "relay",
		[&](unsigned) { return std::make_unique<FloorCaller>(relay_socket, records); }, floor_socket);
	result.measured = "relay";
	// A reference, not a product: held to nothing.
	result.target = {};
	result.pass = true;
	return result;
}

} // namespace drpc::bench
