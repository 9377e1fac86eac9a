// SPDX-License-Identifier: Apache-2.0
/// @file drpc/server.hpp
/// A dRPC server on a Unix domain socket (DAOS's Go drpc.DomainSocketServer
/// in C++).
///
/// Threading: every session (client connection) is served by its own thread,
/// which reads a call, runs the module's handler inline and writes the
/// answer. That is the lowest-latency path for local IPC (one wake-up per
/// call), and a slow handler or a client stalled mid-message holds up only its
/// own session. Session threads come from a pool that keeps `spare_threads`
/// ready so that a new connection does not wait for a thread to start.
#pragma once

#include <drpc/framing.hpp>
#include <drpc/module.hpp>
#include <drpc/module_registry.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <sys/types.h>

namespace drpc {

struct ServerOptions {
	std::filesystem::path socket_path;
	/// Mode of the socket file; it is never more open than this, not even
	/// for an instant.
	mode_t socket_mode = 0600;
	/// A socket file left by a dead server is removed at start(); a live one
	/// is never touched, nor is anything that is not a socket.
	bool unlink_stale_socket = true;
	size_t max_message_bytes = framing::default_max_message_bytes;
	/// Connections beyond this are accepted and closed at once, with a log line.
	size_t max_sessions = 1024;
	/// Idle session threads kept ready.
	size_t spare_threads = 2;
	/// An already listening SOCK_SEQPACKET Unix socket to serve instead of
	/// creating one at socket_path (systemd socket activation). start()
	/// takes it over (and throws Error if it is of another kind); socket_path
	/// then only names it in messages, and its file is left alone.
	int listen_fd = -1;
};

struct ServerStats {
	uint64_t sessions_open = 0;
	uint64_t sessions_total = 0;
	uint64_t sessions_refused = 0; ///< over max_sessions
	uint64_t calls_served = 0;
};

class DomainSocketServer {
public:
	/// As DAOS's NewDomainSocketServer(path, mode), with default limits.
	DomainSocketServer(std::filesystem::path socket_path, mode_t socket_mode);
	explicit DomainSocketServer(ServerOptions options);
	/// Calls shutdown().
	~DomainSocketServer();
	DomainSocketServer(const DomainSocketServer &) = delete;
	DomainSocketServer &operator=(const DomainSocketServer &) = delete;

	/// Registers a module, before or after start(); throws
	/// DuplicateModuleError naming the ID when it is taken.
	void register_module(std::shared_ptr<Module> module);
	/// The routing table, for replacing and removing modules at run time.
	[[nodiscard]] ModuleRegistry &modules() noexcept;

	/// Creates the socket and starts accepting. Throws Error naming the path:
	/// "socket in use" when a live server answers there, when the path is
	/// not a socket, when binding fails.
	void start();

	/// Stops accepting, lets calls in flight finish (for up to
	/// `drain_deadline`), closes every session and removes the socket file
	/// this server created. Returns false when calls were still running at
	/// the deadline: their sessions keep running, the modules must stay
	/// loaded, and a later shutdown() (the destructor's) waits for them.
	/// Idempotent; safe from any thread but a session's.
	bool shutdown(std::chrono::milliseconds drain_deadline = std::chrono::milliseconds::max());

	[[nodiscard]] ServerStats stats() const noexcept;
	[[nodiscard]] const ServerOptions &options() const noexcept;

private:
	class Impl;
	std::unique_ptr<Impl> impl_;
};

} // namespace drpc
