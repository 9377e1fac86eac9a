// SPDX-License-Identifier: Apache-2.0
// drpc-bench --sessions: many idle sessions held at once.
#include "sessions_bench.hpp"

#include "fresh_client.hpp"
#include "host_probe.hpp"
#include "seqpacket.hpp"
#include "server_process.hpp"
#include "temp_dir.hpp"

#include <drpc/framing.hpp>

#include <chrono>
#include <cstdio>
#include <optional>
#include <poll.h>
#include <thread>
#include <vector>

namespace drpc::bench {
namespace {

double mib(size_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

void print_usage(const char *when, const ProcessUsage &usage)
{
	std::printf("  %-26s RSS %8.1f MiB  threads %5zu  fds %6zu\n", when, mib(usage.rss_bytes), usage.threads,
	            usage.fds);
}

void print_fresh(const char *when, const FreshClient &fresh)
{
	if (!fresh.error.empty()) {
		std::printf("  %-26s FAILED: %s\n", when, fresh.error.c_str());
		return;
	}
	std::printf("  %-26s first answer %8.1f us; then p50 %6.1f us  p99 %7.1f us  max %8.1f us\n", when,
	            fresh.first_answer_us, fresh.calls.p50_us, fresh.calls.p99_us, fresh.calls.max_us);
}

/// One session: connected, one hello call answered, then left idle.
bool open_session(const std::filesystem::path &socket, std::vector<UniqueFd> &sessions)
{
	try {
		UniqueFd fd = connect_seqpacket(socket);
		const std::string call = hello_call_bytes("idle", 1);
		framing::send_message(fd.get(), std::span(reinterpret_cast<const uint8_t *>(call.data()), call.size()),
		                      5000);
		uint8_t answer[256];
		pollfd pfd{fd.get(), POLLIN, 0};
		if (::poll(&pfd, 1, 5000) != 1 || receive_record(fd.get(), answer, sizeof(answer), "answer") == 0)
			return false;
		sessions.push_back(std::move(fd));
		return true;
	} catch (const std::exception &) {
		return false;
	}
}

} // namespace

int run_sessions(const Options &options)
{
	const size_t count = options.sessions;
	const size_t fd_limit = raise_own_fd_limit();
	const TempDir dir;
	std::optional<ServerProcess> server;
	std::filesystem::path socket;
	if (options.socket) {
		socket = *options.socket;
	} else {
		socket = dir.path() / "drpc.sock";
		ServerOptions server_options{.socket_path = socket};
		server_options.max_sessions = std::max(server_options.max_sessions, count + 64);
		server.emplace(server_options);
	}
	const pid_t pid = server ? server->pid() : server_pid(socket);
	std::printf("drpc-bench --sessions %zu: server pid %d (%s); this process may open %zu fds; %u CPUs\n", count,
	            static_cast<int>(pid), options.socket ? options.socket->c_str() : "built-in server, defaults",
	            fd_limit, std::thread::hardware_concurrency());
	std::fflush(stdout);

	const ProcessUsage idle = process_usage(pid);
	print_usage("no session:", idle);
	print_fresh("fresh client, no session:", fresh_client(socket, 200));

	std::vector<UniqueFd> sessions;
	sessions.reserve(count);
	size_t failed = 0;
	for (size_t i = 0; i < count; ++i)
		failed += open_session(socket, sessions) ? 0 : 1;
	// Long enough for every session to be parked.
	std::this_thread::sleep_for(std::chrono::milliseconds(500));
	const ProcessUsage held = process_usage(pid);
	std::printf("  %zu sessions held, %zu failed to open\n", sessions.size(), failed);
	print_usage("while held:", held);
	const FreshClient during = fresh_client(socket, 200);
	print_fresh("fresh client, while held:", during);
	if (!sessions.empty()) {
		const double per_session =
			(static_cast<double>(held.rss_bytes) - static_cast<double>(idle.rss_bytes)) / sessions.size();
		std::printf("  per held session: %.0f bytes resident, %.4f threads, %.3f fds\n", per_session,
		            (static_cast<double>(held.threads) - idle.threads) / sessions.size(),
		            (static_cast<double>(held.fds) - idle.fds) / sessions.size());
	}
	sessions.clear();
	std::this_thread::sleep_for(std::chrono::milliseconds(500));
	print_usage("after closing them:", process_usage(pid));
	int status = failed == 0 && during.error.empty() ? 0 : 1;
	if (server) {
		const int code = server->stop();
		std::printf("  server shutdown: exit status %d\n", code);
		status = code == 0 ? status : 1;
	}
	return status;
}

} // namespace drpc::bench
