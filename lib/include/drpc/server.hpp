// SPDX-License-Identifier: Apache-2.0
/// @file drpc/server.hpp
/// A dRPC server on a Unix domain socket (DAOS's Go drpc.DomainSocketServer
/// in C++).
///
/// Threading: a busy session (client connection) is served by its own
/// thread, which reads a call, runs the module's handler inline and writes
/// the answer. That is the lowest-latency path for local IPC (one wake-up per
/// call), and a slow handler holds up only its own session. A session with
/// nothing to read for `park_after` gives its thread back and waits in one
/// epoll loop, which hands it to a pool thread when its next record arrives:
/// idle sessions cost no thread. The pool keeps `spare_threads` ready so
/// that a new connection or a woken session does not wait for a thread.
///
/// Every resource a client can make the server hold is bounded (sessions,
/// bytes in flight, time); hitting a limit closes or refuses only the
/// session that hit it, with one rate-limited log line naming the limit.
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
	size_t max_sessions = 16384;
	/// Sessions one uid may hold (zero: no limit); root and the server's
	/// own uid are exempt.
	size_t max_sessions_per_uid = 4096;
	/// The last slots of max_sessions, kept for root and the server's uid.
	size_t reserved_sessions = 16;
	/// Bytes held for calls being reassembled and answers being built or
	/// sent, across all sessions (zero: no limit); a session that would pass
	/// it is closed.
	size_t max_inflight_bytes = size_t{256} << 20;
	/// The share of max_inflight_bytes one uid may hold (zero: no limit).
	size_t max_inflight_bytes_per_uid = size_t{128} << 20;
	/// A message whose first chunk has arrived must be complete within this.
	std::chrono::milliseconds message_timeout{10000};
	/// An answer the client does not take for this long (no chunk fits in
	/// the socket) closes the session.
	std::chrono::milliseconds send_timeout{10000};
	/// A session with no call for this long is closed (zero: never, as DAOS
	/// keeps its connections for the life of the engine).
	std::chrono::milliseconds idle_timeout{0};
	/// A session with nothing to read for this long gives its thread back
	/// and is parked; at least 1 ms (the message and idle timeouts of a
	/// quiet session are kept while it is parked).
	std::chrono::milliseconds park_after{20};
	/// Idle session threads kept ready.
	size_t spare_threads = 2;
	/// Session threads that may exist at once (zero: only the system limits
	/// them); a new session finding none is refused, a parked one closed.
	size_t max_threads = 1024;
	/// An already listening SOCK_SEQPACKET Unix socket to serve instead of
	/// creating one at socket_path (systemd socket activation). start()
	/// takes it over (and throws Error if it is of another kind); socket_path
	/// then only names it in messages, and its file is left alone.
	int listen_fd = -1;
};

struct ServerStats {
	uint64_t sessions_open = 0;
	uint64_t sessions_total = 0;
	uint64_t sessions_refused = 0; ///< over a session limit, or no thread or fd for it
	uint64_t calls_served = 0;
	uint64_t sessions_parked = 0;     ///< open sessions waiting without a thread
	uint64_t inflight_bytes = 0;      ///< held against max_inflight_bytes now
	uint64_t inflight_peak_bytes = 0; ///< the most held at once

	// Which limit refused or closed how many sessions.
	uint64_t refused_session_limit = 0;  ///< max_sessions, max_sessions_per_uid or the reserve
	uint64_t refused_no_descriptor = 0;  ///< out of file descriptors (RLIMIT_NOFILE)
	uint64_t refused_no_thread = 0;      ///< no thread to start or resume it (max_threads, RLIMIT_NPROC)
	uint64_t closed_over_budget = 0;     ///< a message over max_inflight_bytes(_per_uid)
	uint64_t closed_message_timeout = 0; ///< a message not complete within message_timeout
	uint64_t closed_idle_timeout = 0;    ///< no call for idle_timeout
	uint64_t closed_send_timeout = 0;    ///< an answer not read within send_timeout
	uint64_t closed_framing_error = 0;   ///< a record that breaks the framing rules
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
	/// not a socket, when binding fails; SystemError "cannot start its
	/// threads" (its errno as code()) when the system refuses them, after
	/// which the server is stopped, its socket file removed, and it cannot
	/// be started again.
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
