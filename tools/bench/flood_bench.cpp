// SPDX-License-Identifier: Apache-2.0
// drpc-bench --flood: memory, slow-loris and never-read attacks with a
// bystander.
#include "flood_bench.hpp"

#include "fresh_client.hpp"
#include "host_probe.hpp"
#include "seqpacket.hpp"
#include "server_process.hpp"
#include "temp_dir.hpp"

#include <drpc/client.hpp>
#include <drpc/framing.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <optional>
#include <sys/socket.h>
#include <sys/time.h>
#include <thread>
#include <vector>

namespace drpc::bench {
namespace {

using Clock = std::chrono::steady_clock;

double mib(size_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

/// An attacking connection; its sends give up after 2 s instead of hanging.
std::optional<UniqueFd> attacker(const std::filesystem::path &socket)
{
	try {
		UniqueFd fd = connect_seqpacket(socket);
		const timeval two_seconds{2, 0};
		(void)::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &two_seconds, sizeof(two_seconds));
		return fd;
	} catch (const std::exception &) {
		return std::nullopt;
	}
}

/// Sends chunk `idx` of a message of `total` bytes; false when the server
/// has closed the connection (or it would block for 2 s).
bool send_chunk(int fd, uint64_t total, uint32_t idx, const std::vector<uint8_t> &filler)
{
	const uint64_t offset = uint64_t{idx} * framing::max_chunk_data;
	const framing::ChunkHeader header{total, std::min<uint64_t>(framing::max_chunk_data, total - offset), idx,
	                                  framing::chunk_count(total)};
	uint8_t head[framing::header_size];
	framing::encode_header(header, head);
	iovec iov[2] = {{head, sizeof(head)}, {const_cast<uint8_t *>(filler.data()), header.chunk_data_size}};
	msghdr msg{};
	msg.msg_iov = iov;
	msg.msg_iovlen = 2;
	return ::sendmsg(fd, &msg, MSG_NOSIGNAL) >= 0;
}

/// Calls hello in a loop until `stop`; counts answered and failed calls.
struct Bystander {
	std::atomic<bool> stop{false};
	std::atomic<uint64_t> answered{0};
	std::atomic<uint64_t> failed{0};
	std::atomic<int64_t> worst_ns{0};

	void run(const std::filesystem::path &socket)
	{
		Call call;
		call.set_module(0);
		call.set_method(0);
		call.set_body(std::string("\x0a\x09"
		                          "bystander",
		                          11));
		ClientConnection client(socket, ClientOptions{.call_timeout = std::chrono::seconds(5)});
		while (!stop.load()) {
			const auto start = Clock::now();
			try {
				client.connect();
				if (client.send_msg(call).status() == Status::SUCCESS)
					answered.fetch_add(1);
				else
					failed.fetch_add(1);
			} catch (const std::exception &) {
				failed.fetch_add(1);
			}
			const int64_t ns =
				std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
			worst_ns.store(std::max(worst_ns.load(), ns));
			std::this_thread::sleep_for(std::chrono::milliseconds(1));
		}
	}
};

} // namespace

int run_flood(const Options &options)
{
	(void)raise_own_fd_limit();
	const TempDir dir;
	std::optional<ServerProcess> server;
	std::filesystem::path socket;
	// Short timeouts keep the run short; the figures do not depend on them.
	ServerOptions server_options{.socket_path = dir.path() / "drpc.sock"};
	server_options.message_timeout = std::chrono::seconds(3);
	server_options.send_timeout = std::chrono::seconds(3);
	if (options.socket) {
		socket = *options.socket;
	} else {
		socket = server_options.socket_path;
		server.emplace(server_options);
	}
	const pid_t pid = server ? server->pid() : server_pid(socket);
	const size_t message_bytes = server ? server_options.max_message_bytes : framing::default_max_message_bytes;
	const unsigned hoarders = options.flood_connections;
	std::printf("drpc-bench --flood: server pid %d (%s)\n", static_cast<int>(pid),
	            options.socket ? options.socket->c_str()
	                           : "built-in server, defaults but message and send timeouts of 3 s");
	if (server)
		std::printf(
			"  budget limits.max_inflight_bytes %.0f MiB (per uid %.0f MiB), max_message_bytes %.0f MiB\n",
			mib(server_options.max_inflight_bytes), mib(server_options.max_inflight_bytes_per_uid),
			mib(message_bytes));
	const ProcessUsage idle = process_usage(pid);
	std::printf("  idle: RSS %.1f MiB, peak %.1f MiB, threads %zu\n", mib(idle.rss_bytes), mib(idle.peak_bytes),
	            idle.threads);
	std::fflush(stdout);

	Bystander bystander;
	std::thread bystander_thread([&] { bystander.run(socket); });
	const std::vector<uint8_t> filler(framing::max_chunk_data, 'x');

	// 1. Memory: every hoarder sends all but the last chunk, interleaved so
	//    that they all hold half-assembled messages at the same time.
	std::vector<UniqueFd> held;
	std::vector<bool> alive;
	for (unsigned i = 0; i < hoarders; ++i) {
		if (auto fd = attacker(socket)) {
			held.push_back(std::move(*fd));
			alive.push_back(true);
		}
	}
	const uint32_t chunks = framing::chunk_count(message_bytes);
	size_t closed_by_server = 0;
	for (uint32_t idx = 0; idx + 1 < chunks; ++idx) {
		for (size_t c = 0; c < held.size(); ++c) {
			if (alive[c] && !send_chunk(held[c].get(), message_bytes, idx, filler)) {
				alive[c] = false;
				++closed_by_server;
			}
		}
	}
	const ProcessUsage after_memory = process_usage(pid);
	std::printf("  memory attack: %zu connections x %.0f MiB less one chunk (%.0f MiB claimed): %zu closed by "
	            "the server; RSS now %.1f MiB\n",
	            held.size(), mib(message_bytes), mib(held.size() * message_bytes), closed_by_server,
	            mib(after_memory.rss_bytes));
	std::fflush(stdout);

	// 2. Slow loris (one chunk, then silence) and never-read clients (large
	//    answers nobody takes).
	std::vector<UniqueFd> loris;
	for (unsigned i = 0; i < 4 * hoarders; ++i) {
		if (auto fd = attacker(socket)) {
			if (send_chunk(fd->get(), 3 * framing::max_chunk_data, 0, filler))
				loris.push_back(std::move(*fd));
		}
	}
	std::vector<UniqueFd> deaf;
	const std::string big_call = hello_call_bytes(std::string(size_t{1} << 20, 'n'), 1);
	for (unsigned i = 0; i < hoarders / 4 + 1; ++i) {
		if (auto fd = attacker(socket)) {
			try {
				for (int call = 0; call < 8; ++call)
					framing::send_message(
						fd->get(),
						std::span(reinterpret_cast<const uint8_t *>(big_call.data()),
					                  big_call.size()),
						2000);
			} catch (const std::exception &) {
				// Blocked: the server stopped reading behind unread answers.
			}
			deaf.push_back(std::move(*fd));
		}
	}
	const ProcessUsage during_slow = process_usage(pid);
	std::printf("  slow clients: %zu stalled after one chunk, %zu never reading 1 MiB answers; RSS %.1f MiB, "
	            "threads %zu\n",
	            loris.size(), deaf.size(), mib(during_slow.rss_bytes), during_slow.threads);
	std::fflush(stdout);
	// Past the message and send timeouts, the server has dropped them.
	std::this_thread::sleep_for(server ? std::chrono::seconds(4) : std::chrono::seconds(1));
	const ProcessUsage settled = process_usage(pid);

	bystander.stop.store(true);
	bystander_thread.join();
	held.clear();
	loris.clear();
	deaf.clear();
	std::printf("  host peak RSS %.1f MiB = idle %.1f MiB + %.1f MiB", mib(settled.peak_bytes), mib(idle.rss_bytes),
	            mib(settled.peak_bytes - std::min(settled.peak_bytes, idle.rss_bytes)));
	if (server)
		std::printf(" (budget %.0f MiB)", mib(server_options.max_inflight_bytes));
	std::printf("; RSS after the timeouts %.1f MiB, threads %zu\n", mib(settled.rss_bytes), settled.threads);
	std::printf("  bystander: %llu calls answered, %llu failed (must be 0), worst %.1f ms\n",
	            static_cast<unsigned long long>(bystander.answered.load()),
	            static_cast<unsigned long long>(bystander.failed.load()), bystander.worst_ns.load() / 1e6);
	int status = bystander.failed.load() == 0 ? 0 : 1;
	if (server) {
		const int code = server->stop();
		std::printf("  server shutdown: exit status %d\n", code);
		status = code == 0 ? status : 1;
	}
	return status;
}

} // namespace drpc::bench
