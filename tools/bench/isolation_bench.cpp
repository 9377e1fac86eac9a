// SPDX-License-Identifier: Apache-2.0
// Isolated against in-process echo, both against the floor.
#include "isolation_bench.hpp"

#include "benchmark.hpp"
#include "child_server.hpp"
#include "drpc_caller.hpp"
#include "floor_server.hpp"
#include "report.hpp"
#include "temp_dir.hpp"

#include <drpc/client.hpp>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

/// drpc-host over its own plugins directory holding echo.so, in a child
/// process, with echo configured in-process or isolated.
class HostChild {
public:
	HostChild(const std::filesystem::path &dir, bool isolated) : socket_(dir / "host.sock")
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
		std::ofstream(config)
			<< "{\"socket\": {\"path\": \"" << socket_.string() << "\"}, \"run_directory\": \""
			<< run.string() << "\", \"plugins\": {\"directory\": \"" << plugins.string()
			<< "\"}, \"log\": {\"level\": \"warn\"}, \"modules\": {\"echo\": {\"isolation\": \""
			<< (isolated ? "process" : "in-process") << "\"}}}";
		const std::string log = (dir / "host.log").string();
		const std::string config_text = config.string();
		const pid_t parent = ::getpid();
		pid_ = ::fork();
		if (pid_ < 0)
			throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
		if (pid_ == 0) {
			// A bench killed mid-run stops its hosts (and so their workers).
			if (::prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || ::getppid() != parent)
				::_exit(127);
			const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
			if (fd >= 0)
				::dup2(fd, 2);
			::execl(DRPC_BENCH_HOST_EXE, "drpc-host", "--config", config_text.c_str(), nullptr);
			::_exit(127);
		}
		const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
		while (std::chrono::steady_clock::now() < deadline) {
			try {
				drpc::ClientConnection probe(socket_);
				probe.connect();
				return;
			} catch (const std::exception &) {
				std::this_thread::sleep_for(std::chrono::milliseconds(20));
			}
		}
		stop();
		throw std::runtime_error("drpc-host (" DRPC_BENCH_HOST_EXE ") did not start; see " + log);
	}
	~HostChild() { stop(); }
	HostChild(const HostChild &) = delete;
	HostChild &operator=(const HostChild &) = delete;

	[[nodiscard]] const std::filesystem::path &socket() const noexcept { return socket_; }

	void stop() noexcept
	{
		if (pid_ <= 0)
			return;
		::kill(pid_, SIGTERM);
		::waitpid(pid_, nullptr, 0);
		pid_ = -1;
	}

private:
	std::filesystem::path socket_;
	pid_t pid_ = -1;
};

double isolated_target(const CaseResult &isolated)
{
	return isolated.spec.payload_bytes <= 4096 ? isolated_small_target : isolated_bulk_target;
}

std::string verdict(const CaseResult &isolated, const CaseResult &relay)
{
	const double target = isolated_target(isolated);
	std::ostringstream line;
	line << "  isolated/floor " << std::fixed << std::setprecision(2) << isolated.ratio << " (target >= " << target
	     << ") " << (isolated.ratio >= target ? "PASS" : "BELOW") << "; bare relay/floor " << relay.ratio;
	if (relay.ratio > 0)
		line << ": isolated is " << isolated.ratio / relay.ratio << " x the bare relay";
	return line.str();
}

/// One case of --json: the three measurements and the isolated verdict.
nlohmann::json case_report(const CaseResult &in_process, const CaseResult &isolated, const CaseResult &relay)
{
	return {
		{"in_process", case_json("echo in-process", in_process)},
		{"isolated", case_json("echo isolated", isolated)},
		{"bare_relay", case_json("bare relay", relay)},
		{"isolated_per_bare_relay", relay.ratio > 0 ? nlohmann::json(isolated.ratio / relay.ratio) : nullptr},
	};
}

/// Holds an isolated case to the isolation target instead of the in-process one.
void hold_to_isolated_target(CaseResult &isolated)
{
	isolated.target = {Target::Kind::ratio, isolated_target(isolated)};
	isolated.pass = isolated.ratio >= isolated.target.threshold;
}

/// A floor server in a child process: the bare relay's far end.
ChildServer::Serve floor_serving(const std::filesystem::path &socket, const std::filesystem::path &upstream = {})
{
	return [socket, upstream](const sigset_t &stop_signals) {
		FloorServer server(socket, upstream);
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
	std::optional<ChildServer> relay;
	try {
		relay_far_end.emplace("the bare relay's echo", relay_end, floor_serving(relay_end));
		relay.emplace("the bare relay", relay_socket, floor_serving(relay_socket, relay_end));
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
			<< std::thread::hardware_concurrency()
			<< " CPUs; and the bare relay: the floor's records through a relay process to an echo process, "
			   "a blocking thread per connection, as isolated calls go, with no dRPC in it\n"
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
		if (options.json)
			cases.push_back(case_report(inside, outside, bare));
		else
			std::cout << format_case("bare relay", bare) << '\n'
				  << verdict(outside, bare) << '\n'
				  << std::flush;
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
	relay->stop();
	relay_far_end->stop();
	return 0;
}

} // namespace drpc::bench
