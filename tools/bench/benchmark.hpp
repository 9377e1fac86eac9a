// SPDX-License-Identifier: Apache-2.0
/// @file benchmark.hpp
/// One case of the bench: dRPC and the floor, alternated over rounds, and
/// the target the case is held to.
#pragma once

#include "args.hpp"
#include "drpc_caller.hpp"
#include "stats.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace drpc::bench {

struct SideResult {
	LatencySummary latency;
	double seconds = 0;
	double calls_per_second = 0;
	/// Call bytes moved per second, each way.
	double bytes_per_second = 0;
	/// Process CPU time (client, and server when in-process) per call.
	double cpu_us_per_call = 0;
	/// Process context switches per call.
	double switches_per_call = 0;
	/// The shares (0..1) of the machine's CPU time that were idle and that
	/// the hypervisor took (steal) while this side ran: machine_cpu.hpp
	/// says why. Nothing when /proc/stat could not be read.
	std::optional<double> idle_share;
	std::optional<double> steal_share;
};

struct Target {
	enum class Kind {
		none,       ///< no target for this case
		ratio,      ///< dRPC calls/s at least `threshold` x the floor's
		throughput, ///< dRPC at least `threshold` bytes/s each way
	};
	Kind kind = Kind::none;
	double threshold = 0;
};

struct CaseResult {
	Case spec;
	/// The encoded Call and the records it travels in.
	size_t call_bytes = 0;
	size_t records = 0;
	/// What the "drpc" side measured: "drpc", or "relay" (run_relay_case).
	std::string measured = "drpc";
	SideResult drpc;
	SideResult floor;
	double ratio = 0; ///< dRPC calls/s over the floor's
	Target target;
	bool pass = false;
};

/// The project's targets: a small call (up to 4 KiB) at 0.7 x the floor's
/// calls/s over one connection and 0.6 x over several; a call of 1 MiB or
/// more at 1 GB/s each way. Sizes between have none.
[[nodiscard]] Target target_for(const Case &spec);

/// Runs `spec` against the dRPC server and the floor at the given sockets.
/// Throws std::runtime_error naming the side and connection that failed.
[[nodiscard]] CaseResult run_case(const Options &options, const Case &spec, const CallPlan &plan,
                                  const std::filesystem::path &drpc_socket, const std::filesystem::path &floor_socket);

/// As run_case, with the floor's own records sent through `relay_socket` (a
/// FloorServer relaying to another, in two other processes) in place of
/// dRPC: a reference for what a relayed call's shape costs, no dRPC in it.
[[nodiscard]] CaseResult run_relay_case(const Options &options, const Case &spec, const CallPlan &plan,
                                        const std::filesystem::path &relay_socket,
                                        const std::filesystem::path &floor_socket);

} // namespace drpc::bench
