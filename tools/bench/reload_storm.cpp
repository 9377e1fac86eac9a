// SPDX-License-Identifier: Apache-2.0
// The reload storm: a steady-state window, then reloads one after another
// under the same load, then a look at what the process still holds.
#include "reload_storm.hpp"

#include "load_generator.hpp"
#include "process_census.hpp"
#include "storm_host.hpp"

#include <cstdio>
#include <optional>
#include <stdexcept>
#include <thread>

#ifndef DRPC_BENCH_STORM_DIR
#error "build with -DDRPC_BENCH_STORM_DIR=\"<dir of storm_a.so and storm_b.so>\""
#endif

namespace drpc::bench {
namespace {

using Clock = std::chrono::steady_clock;

/// A reload not answered by then has failed; only keeps the bench from hanging.
constexpr std::chrono::seconds reload_deadline{10};
/// For the last old build to be unloaded after the storm: the host's
/// default drain timeout and some.
constexpr std::chrono::seconds settle_deadline{12};
constexpr std::chrono::milliseconds settle_poll{10};

StormBuild other(StormBuild build) { return build == StormBuild::a ? StormBuild::b : StormBuild::a; }

std::string letter(StormBuild build) { return std::string(1, static_cast<char>(build)); }

std::string format(const char *pattern, double value)
{
	char text[64];
	std::snprintf(text, sizeof(text), pattern, value);
	return text;
}

/// What the host says of the storm module: its generation and last refusal.
void note_module(host::Lifecycle &plugins, StormResult &result)
{
	for (const host::ModuleRecord &module : plugins.list()) {
		if (module.id == storm_module_id && module.state == host::ModuleState::serving) {
			result.final_generation = module.generation;
			result.last_load_error = module.last_load_error;
		}
	}
}

/// The reloads, run while the load connections measure. Never throws: it
/// runs on run_load's thread, whose connection threads must still be joined.
void storm(const StormOptions &options, StormHost &server, BuildProbe &probe, StormResult &result,
           std::vector<int64_t> &reload_ns) noexcept
{
	try {
		result.fds_before = count_open_fds();
		StormBuild next = StormBuild::b;
		for (unsigned i = 0; i < options.reloads; ++i, next = other(next)) {
			const Clock::time_point renamed = server.install(next);
			const std::optional<Clock::time_point> answered =
				probe.wait_for(next, renamed, renamed + reload_deadline);
			if (!answered) {
				note_module(server.plugins(), result);
				std::string why = "reload " + std::to_string(i + 1) + ": build " + letter(next) +
				                  " did not answer within " + std::to_string(reload_deadline.count()) +
				                  " s";
				for (const std::string &cause :
				     {probe.error(), server.loop_error(), result.last_load_error}) {
					if (!cause.empty())
						why += "; " + cause;
				}
				result.error = why;
				break;
			}
			reload_ns.push_back(
				std::chrono::duration_cast<std::chrono::nanoseconds>(*answered - renamed).count());
			++result.reloads_done;
		}

		// The probe sees the new build as soon as it is swapped in; the old one
		// is unloaded just after, on the host's thread.
		const Clock::time_point deadline = Clock::now() + settle_deadline;
		for (;;) {
			result.mapped_copies = mapped_files_under(server.runtime_dir());
			result.runtime_files = count_entries(server.runtime_dir());
			if ((result.mapped_copies.size() == 1 && result.runtime_files == 1) || Clock::now() >= deadline)
				break;
			std::this_thread::sleep_for(settle_poll);
		}
		result.fds_after = count_open_fds();
		note_module(server.plugins(), result);
	} catch (const std::exception &e) {
		if (result.error.empty())
			result.error = std::string("storm: ") + e.what();
	}
}

} // namespace

StormResult run_reload_storm(const StormOptions &options, std::chrono::duration<double> warmup)
{
	const std::filesystem::path builds = options.plugin_dir.empty() ? DRPC_BENCH_STORM_DIR : options.plugin_dir;
	StormHost server(builds, StormBuild::a);
	AnswerTally tally;
	// The probe polls from here on, in the steady window too, so that both
	// windows carry the same load besides the reloads.
	BuildProbe probe(server.socket_path(), tally);
	if (!probe.wait_for(StormBuild::a, Clock::time_point::min(), Clock::now() + reload_deadline)) {
		const std::string why = probe.error().empty() ? tally.first_problem() : probe.error();
		throw std::runtime_error("storm.so (build A) does not answer module " +
		                         std::to_string(storm_module_id) + " on " + server.socket_path().string() +
		                         (why.empty() ? "" : ": " + why));
	}

	StormResult result;
	result.scratch_base = server.directory().parent_path();
	result.connections = options.connections;
	result.reloads_requested = options.reloads;

	const std::filesystem::path socket = server.socket_path();
	const CallerFactory make_caller = [&](unsigned index) {
		return std::make_unique<StormCaller>(socket, index, tally);
	};
	LoadSpec load;
	load.connections = options.connections;
	load.warmup = std::chrono::duration_cast<std::chrono::nanoseconds>(warmup);

	load.thread_name = "storm-steady";
	load.duration = std::chrono::duration_cast<std::chrono::nanoseconds>(options.steady);
	LoadResult steady = run_load(load, make_caller);
	if (!steady.error.empty())
		throw std::runtime_error("steady state: " + steady.error);

	std::vector<int64_t> reload_ns;
	reload_ns.reserve(options.reloads);
	load.thread_name = "storm-load";
	// The window is the reloads' and no longer.
	load.duration = std::chrono::nanoseconds(0);
	load.while_measuring = [&] { storm(options, server, probe, result, reload_ns); };
	LoadResult stormy = run_load(load, make_caller);
	if (!stormy.error.empty() && result.error.empty())
		result.error = "storm: " + stormy.error;

	result.steady_seconds = std::chrono::duration<double>(steady.elapsed).count();
	result.steady = summarize(steady.latencies_ns);
	result.storm_seconds = std::chrono::duration<double>(stormy.elapsed).count();
	result.storm = summarize(stormy.latencies_ns);
	result.p99_ratio = result.steady.p99_us > 0 ? result.storm.p99_us / result.steady.p99_us : 0;
	result.reload = summarize(reload_ns);
	result.answers = tally.counts();
	result.first_problem = tally.first_problem();
	probe.stop();
	for (const std::string &cause : {probe.error(), server.loop_error()}) {
		if (!cause.empty() && result.error.empty())
			result.error = cause;
	}
	server.stop();
	return result;
}

std::vector<StormCheck> storm_checks(const StormResult &result)
{
	const auto count = [](uint64_t value) { return std::to_string(value); };
	return {
		{"reloads answered by the new build",
	         count(result.reloads_done) + " of " + count(result.reloads_requested), "all",
	         result.reloads_done == result.reloads_requested},
		{"call p99 storm / steady", format("%.2fx", result.p99_ratio),
	         format("<= %.1fx", storm_p99_ratio_target),
	         result.p99_ratio > 0 && result.p99_ratio <= storm_p99_ratio_target},
		{"failed calls", count(result.answers.failed), "0", result.answers.failed == 0},
		{"answers neither A nor B", count(result.answers.foreign), "0", result.answers.foreign == 0},
		{"storm copies mapped after", count(result.mapped_copies.size()), "1",
	         result.mapped_copies.size() == 1},
		{"files in runtime dir after", count(result.runtime_files), "1", result.runtime_files == 1},
		{"open fds before -> after", count(result.fds_before) + " -> " + count(result.fds_after), "no growth",
	         result.fds_after <= result.fds_before && result.fds_before > 0},
	};
}

} // namespace drpc::bench
