// SPDX-License-Identifier: Apache-2.0
// drpc-bench: dRPC round-trip latency and throughput next to a bare
// SOCK_SEQPACKET echo measured in the same run, so that the ratio between
// them, not the machine, is what the figures say.
#include "args.hpp"
#include "benchmark.hpp"
#include "drpc_caller.hpp"
#include "flood_bench.hpp"
#include "floor_server.hpp"
#include "hello_module.hpp"
#include "isolation_bench.hpp"
#include "machine_cpu.hpp"
#include "reload_storm.hpp"
#include "report.hpp"
#include "sessions_bench.hpp"
#include "storm_report.hpp"
#include "temp_dir.hpp"

#include <drpc/log.hpp>
#include <drpc/server.hpp>

#include <iostream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace drpc::bench {
namespace {

int run_storm(const Options &options)
{
	const StormOptions &storm = options.storm;
	if (!options.json)
		std::cout << "drpc-bench --reload-storm: in-process drpc-host, module " << storm_module_id
			  << " (storm.so <- storm_a.so / storm_b.so), " << storm.connections << " connections, "
			  << storm.reloads << " reloads after " << storm.steady.count() << " s of steady state; "
			  << std::thread::hardware_concurrency() << " CPUs\n"
			  << std::flush;
	const StormResult result = run_reload_storm(storm, options.warmup);
	if (options.json)
		std::cout << storm_json(result).dump(2) << '\n';
	else
		std::cout << format_storm(result) << std::flush;
	return result.error.empty() ? 0 : 1;
}

int run(const Options &options)
{
	// The server's info lines would interleave with the table.
	log::set_level(log::Level::warn);
	if (options.storm.enabled)
		return run_storm(options);
	if (options.sessions != 0)
		return run_sessions(options);
	if (options.flood)
		return run_flood(options);
	if (options.isolation)
		return run_isolation(options);

	const TempDir dir;
	FloorServer floor(dir.path() / "floor.sock");
	std::optional<DomainSocketServer> server;
	std::filesystem::path drpc_socket;
	if (options.socket) {
		drpc_socket = *options.socket;
	} else {
		drpc_socket = dir.path() / "drpc.sock";
		server.emplace(ServerOptions{.socket_path = drpc_socket});
		server->register_module(std::make_shared<HelloModule>());
		server->start();
	}

	// Module 0 is hello in DAOS; its body is a hello.Hello whatever the method.
	const bool hello = !options.raw && options.module == hello_module_id;
	std::string label = "module " + std::to_string(options.module) + " method " + std::to_string(options.method);
	if (hello && options.method == hello_greeting_method)
		label = "hello";
	else if (hello && options.method == hello_in_place_method && !options.socket)
		label = "hello in place";
	const std::string measured = options.socket ? options.socket->string() : "built-in server (hello module)";
	std::ostringstream per_side;
	if (options.calls != 0)
		per_side << options.calls << " calls per connection";
	else
		per_side << options.seconds.count() << " s";

	// Sizing every call first reports a payload that cannot work before any is measured.
	std::vector<CallPlan> plans;
	for (const Case &spec : options.cases)
		plans.push_back(plan_call(options.module, options.method, spec.payload_bytes, hello));

	if (!options.json)
		std::cout << "drpc-bench: " << measured << " vs SEQPACKET echo floor; " << per_side.str()
			  << " per side in " << options.rounds << " alternating rounds; " << describe_cpus()
			  << (options.socket ? "; cpu counts this process only (the clients)" : "") << '\n'
			  << std::flush;

	nlohmann::json cases = nlohmann::json::array();
	for (size_t i = 0; i < options.cases.size(); ++i) {
		probe(drpc_socket, plans[i]);
		const CaseResult result =
			run_case(options, options.cases[i], plans[i], drpc_socket, floor.socket_path());
		if (options.json)
			cases.push_back(case_json(label, result));
		else
			std::cout << format_case(label, result) << '\n' << std::flush;
	}

	if (options.json) {
		const nlohmann::json report = {
			{"server", measured},
			{"cpus", std::thread::hardware_concurrency()},
			{"rounds", options.rounds},
			{"seconds_per_side",
		         options.calls != 0 ? nlohmann::json(nullptr) : nlohmann::json(options.seconds.count())},
			{"calls_per_connection",
		         options.calls != 0 ? nlohmann::json(options.calls) : nlohmann::json(nullptr)},
			{"warmup_seconds", options.warmup.count()},
			{"cases", cases},
		};
		std::cout << report.dump(2) << '\n';
	}
	if (server)
		server->shutdown();
	floor.stop();
	return 0;
}

} // namespace
} // namespace drpc::bench

int main(int argc, char **argv)
{
	using namespace drpc::bench;
	Options options;
	try {
		options = parse_args(std::vector<std::string_view>(argv + 1, argv + argc));
	} catch (const std::invalid_argument &e) {
		std::cerr << "drpc-bench: " << e.what() << '\n';
		return 2;
	}
	if (options.help) {
		std::cout << usage();
		return 0;
	}
	try {
		return run(options);
	} catch (const std::exception &e) {
		std::cerr << "drpc-bench: " << e.what() << '\n';
		return 1;
	}
}
