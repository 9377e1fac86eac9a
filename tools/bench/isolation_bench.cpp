// SPDX-License-Identifier: Apache-2.0
// Isolated against in-process echo, both against the floor.
#include "isolation_bench.hpp"

#include "benchmark.hpp"
#include "child_server.hpp"
#include "drpc_caller.hpp"
#include "event_loop_relay.hpp"
#include "floor_server.hpp"
#include "machine_cpu.hpp"
#include "multiplexed_relay.hpp"
#include "report.hpp"
#include "temp_dir.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#ifndef DRPC_BENCH_HOST_EXE
#define DRPC_BENCH_HOST_EXE "drpc-host"
#endif
#ifndef DRPC_BENCH_ECHO_PLUGIN
#define DRPC_BENCH_ECHO_PLUGIN "echo.so"
#endif

namespace drpc::bench {
namespace {

constexpr int32_t echo_module = 1000;
constexpr int32_t echo_method = 0;

/// Makes `dir` a drpc-host's own: a plugins directory holding echo.so, a run
/// directory, and host.json (echo in-process or isolated, serving on
/// `socket`); the config's path.
std::filesystem::path prepare_host(const std::filesystem::path &dir, const std::filesystem::path &socket, bool isolated)
{
	const std::filesystem::path plugins = dir / "plugins";
	const std::filesystem::path run = dir / "run";
	std::filesystem::create_directories(plugins);
	std::filesystem::create_directories(run);
	::chmod(plugins.c_str(), 0755);
	::chmod(run.c_str(), 0755);
	std::filesystem::copy_file(DRPC_BENCH_ECHO_PLUGIN, plugins / "echo.so");
	::chmod((plugins / "echo.so").c_str(), 0644);
	const std::filesystem::path config = dir / "host.json";
	std::ofstream(config) << "{\"socket\": {\"path\": \"" << socket.string() << "\"}, \"run_directory\": \""
			      << run.string() << "\", \"plugins\": {\"directory\": \"" << plugins.string()
			      << "\"}, \"log\": {\"level\": \"warn\"}, \"modules\": {\"echo\": {\"isolation\": \""
			      << (isolated ? "process" : "in-process") << "\"}}}";
	return config;
}

/// The child's part: drpc-host on `config`, its stderr into `log`.
ChildServer::Serve exec_host(std::string config, std::string log)
{
	return [config = std::move(config), log = std::move(log)](const sigset_t &stop_signals) {
		// drpc-host takes its signals itself; a blocked mask would survive exec.
		::pthread_sigmask(SIG_UNBLOCK, &stop_signals, nullptr);
		const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0)
			::dup2(fd, 2);
		::execl(DRPC_BENCH_HOST_EXE, "drpc-host", "--config", config.c_str(), nullptr);
		std::fprintf(stderr, "drpc-bench: exec %s: %s\n", DRPC_BENCH_HOST_EXE, std::strerror(errno));
		return 127;
	};
}

/// drpc-host over a directory of its own (prepare_host), in a child process.
class HostChild {
public:
	HostChild(const std::filesystem::path &dir, bool isolated)
		: socket_(dir / "host.sock"),
		  child_("drpc-host (" DRPC_BENCH_HOST_EXE "; its log: " + (dir / "host.log").string() + ")", socket_,
	                 exec_host(prepare_host(dir, socket_, isolated).string(), (dir / "host.log").string()))
	{
	}

	[[nodiscard]] const std::filesystem::path &socket() const noexcept { return socket_; }

private:
	const std::filesystem::path socket_;
	ChildServer child_;
};

double isolated_target(const CaseResult &isolated)
{
	return isolated.spec.payload_bytes <= 4096 ? isolated_small_target : isolated_bulk_target;
}

/// The relays that take one-record messages only (multiplexed_relay_fits).
struct OneRecordRelays {
	CaseResult multiplexed;
	CaseResult event_loop;
};

std::string verdict(const CaseResult &isolated, const CaseResult &relay,
                    const std::optional<OneRecordRelays> &one_record)
{
	const double target = isolated_target(isolated);
	std::ostringstream line;
	line << "  isolated/floor " << std::fixed << std::setprecision(2) << isolated.ratio << " (target >= " << target
	     << ") " << (isolated.ratio >= target ? "PASS" : "BELOW") << "; bare relay/floor " << relay.ratio;
	if (relay.ratio > 0)
		line << ": isolated is " << isolated.ratio / relay.ratio << " x the bare relay";
	if (one_record)
		line << "; multiplexed relay/floor " << one_record->multiplexed.ratio << "; event-loop relay/floor "
		     << one_record->event_loop.ratio;
	return line.str();
}

/// One case of --json: the measurements and the isolated verdict.
nlohmann::json case_report(const CaseResult &in_process, const CaseResult &isolated, const CaseResult &relay,
                           const std::optional<OneRecordRelays> &one_record)
{
	return {
		{"in_process", case_json("echo in-process", in_process)},
		{"isolated", case_json("echo isolated", isolated)},
		{"bare_relay", case_json("bare relay", relay)},
		{"isolated_per_bare_relay", relay.ratio > 0 ? nlohmann::json(isolated.ratio / relay.ratio) : nullptr},
		// Null where the case's messages do not fit them (multiplexed_relay.hpp).
		{"multiplexed_relay",
	         one_record ? case_json("multiplexed relay", one_record->multiplexed) : nlohmann::json(nullptr)},
		{"event_loop_relay",
	         one_record ? case_json("event-loop relay", one_record->event_loop) : nlohmann::json(nullptr)},
	};
}

/// Holds an isolated case to the isolation target instead of the in-process one.
void hold_to_isolated_target(CaseResult &isolated)
{
	isolated.target = {Target::Kind::ratio, isolated_target(isolated)};
	isolated.pass = isolated.ratio >= isolated.target.threshold;
}

/// A `Server` (FloorServer, MultiplexedRelay, EventLoopRelay) made of `socket` and
/// `upstream`, in a child process until it is told to stop.
template <typename Server>
ChildServer::Serve serving(const std::filesystem::path &socket, const std::filesystem::path &upstream = {})
{
	return [socket, upstream](const sigset_t &stop_signals) {
		Server server(socket, upstream);
		int signal = 0;
		sigwait(&stop_signals, &signal);
		server.stop();
		return 0;
	};
}

} // namespace

int run_isolation(const Options &options)
{
	const TempDir dir;
	std::filesystem::create_directories(dir.path() / "in-process");
	std::filesystem::create_directories(dir.path() / "isolated");
	std::optional<HostChild> in_process;
	std::optional<HostChild> isolated;
	try {
		in_process.emplace(dir.path() / "in-process", false);
		isolated.emplace(dir.path() / "isolated", true);
	} catch (const std::exception &e) {
		std::cerr << "drpc-bench --isolation: " << e.what() << '\n';
		return 1;
	}
	// Forked before this process starts threads (the floor's).
	const std::filesystem::path relay_end = dir.path() / "relay-end.sock";
	const std::filesystem::path relay_socket = dir.path() / "relay.sock";
	std::optional<ChildServer> relay_far_end;
	const std::filesystem::path multiplexed_socket = dir.path() / "multiplexed-relay.sock";
	std::optional<ChildServer> relay;
	std::optional<ChildServer> multiplexed_relay;
	const std::filesystem::path event_loop_socket = dir.path() / "event-loop-relay.sock";
	std::optional<ChildServer> event_loop_relay;
	try {
		// One far end for every relay: the cases run one at a time.
		relay_far_end.emplace("the relays' echo", relay_end, serving<FloorServer>(relay_end));
		relay.emplace("the bare relay", relay_socket, serving<FloorServer>(relay_socket, relay_end));
		multiplexed_relay.emplace("the multiplexed relay", multiplexed_socket,
		                          serving<MultiplexedRelay>(multiplexed_socket, relay_end));
		event_loop_relay.emplace("the event-loop relay", event_loop_socket,
		                         serving<EventLoopRelay>(event_loop_socket, relay_end));
	} catch (const std::exception &e) {
		std::cerr << "drpc-bench --isolation: " << e.what() << '\n';
		return 1;
	}
	FloorServer floor(dir.path() / "floor.sock");
	if (!options.json)
		std::cout
			<< "drpc-bench --isolation: echo (module 1000) in drpc-host, in-process and isolated (a worker "
			   "process), each vs the SEQPACKET echo floor; "
			<< options.seconds.count() << " s per side in " << options.rounds << " rounds; "
			<< describe_cpus()
			<< "; and the bare relay: the floor's records through a relay process to an echo process, "
			   "a blocking thread per connection, as isolated calls go, with no dRPC in it; and, for "
			   "one-record messages, the multiplexed relay: one shared connection to the echo process, "
			   "read there by one thread, answers written to the clients by the relay's one reader; "
			   "and the event-loop relay: the same, but the whole relay one thread with epoll\n"
			<< std::flush;
	nlohmann::json cases = nlohmann::json::array();
	for (const Case &spec : options.cases) {
		const CallPlan plan = plan_call(echo_module, echo_method, spec.payload_bytes, false);
		probe(in_process->socket(), plan);
		probe(isolated->socket(), plan);
		const CaseResult inside = run_case(options, spec, plan, in_process->socket(), floor.socket_path());
		if (!options.json)
			std::cout << format_case("echo in-process", inside) << '\n' << std::flush;
		CaseResult outside = run_case(options, spec, plan, isolated->socket(), floor.socket_path());
		hold_to_isolated_target(outside);
		if (!options.json)
			std::cout << format_case("echo isolated", outside) << '\n' << std::flush;
		const CaseResult bare = run_relay_case(options, spec, plan, relay_socket, floor.socket_path());
		if (!options.json)
			std::cout << format_case("bare relay", bare) << '\n' << std::flush;
		std::optional<OneRecordRelays> one_record;
		if (multiplexed_relay_fits(floor_records(plan.encoded_bytes))) {
			CaseResult multiplexed =
				run_relay_case(options, spec, plan, multiplexed_socket, floor.socket_path());
			if (!options.json)
				std::cout << format_case("multiplexed relay", multiplexed) << '\n' << std::flush;
			CaseResult event_loop =
				run_relay_case(options, spec, plan, event_loop_socket, floor.socket_path());
			if (!options.json)
				std::cout << format_case("event-loop relay", event_loop) << '\n' << std::flush;
			one_record.emplace(OneRecordRelays{std::move(multiplexed), std::move(event_loop)});
		}

		if (options.json)
			cases.push_back(case_report(inside, outside, bare, one_record));
		else
			std::cout << verdict(outside, bare, one_record) << '\n' << std::flush;
	}
	if (options.json)
		std::cout << nlohmann::json{{"cpus", std::thread::hardware_concurrency()},
		                            {"rounds", options.rounds},
		                            {"seconds_per_side", options.calls != 0
		                                                         ? nlohmann::json(nullptr)
		                                                         : nlohmann::json(options.seconds.count())},
		                            {"calls_per_connection", options.calls != 0 ? nlohmann::json(options.calls)
		                                                                        : nlohmann::json(nullptr)},
		                            {"cases", cases}}
				     .dump(2)
			  << '\n';
	floor.stop();
	event_loop_relay->stop();
	multiplexed_relay->stop();
	relay->stop();
	relay_far_end->stop();
	return 0;
}

} // namespace drpc::bench
