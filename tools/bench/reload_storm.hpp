// SPDX-License-Identifier: Apache-2.0
/// @file reload_storm.hpp
/// drpc-bench --reload-storm: calls to a plugin while it is reloaded again
/// and again, measuring what a reload costs the callers and checking that
/// nothing fails and nothing is left behind.
#pragma once

#include "args.hpp"
#include "stats.hpp"
#include "storm_caller.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace drpc::bench {

struct StormResult {
	/// Where the plugins directory, socket and runtime copies were made.
	std::filesystem::path scratch_base;
	unsigned connections = 0;
	unsigned reloads_requested = 0;
	/// Reloads whose new build answered; fewer when the storm stopped early.
	unsigned reloads_done = 0;

	LatencySummary steady;
	double steady_seconds = 0;
	LatencySummary storm;
	double storm_seconds = 0;
	/// The storm's call p99 over the steady state's.
	double p99_ratio = 0;
	/// From each rename to the first answer from the build it installed.
	LatencySummary reload;

	/// Over the whole run: load connections and probe, steady and storm.
	AnswerTally::Counts answers;
	std::string first_problem;

	/// After the storm, once the last old build was unloaded (or a deadline
	/// passed): runtime copies still mapped, and files in the runtime dir.
	std::set<std::string> mapped_copies;
	size_t runtime_files = 0;
	/// Open descriptors when the storm began and after it, with the same
	/// connections open both times.
	size_t fds_before = 0;
	size_t fds_after = 0;
	/// The storm module's generation at the end (1 + reloads, when each
	/// rename made exactly one reload) and its last refused reload, if any.
	uint64_t final_generation = 0;
	std::string last_load_error;

	/// Why the storm stopped early; empty when it ran to the end.
	std::string error;
};

/// One line of the verdict: a figure against its target.
struct StormCheck {
	std::string name;
	std::string value;
	std::string target;
	bool pass = false;
};

/// Call p99 in the storm at most this many times the steady state's.
inline constexpr double storm_p99_ratio_target = 3.0;

/// Runs the storm. Throws std::runtime_error (or drpc::Error) when it
/// cannot start; a storm that stops early comes back with `error` set.
[[nodiscard]] StormResult run_reload_storm(const StormOptions &options, std::chrono::duration<double> warmup);

/// Every target the storm is held to, in report order.
[[nodiscard]] std::vector<StormCheck> storm_checks(const StormResult &result);

} // namespace drpc::bench
