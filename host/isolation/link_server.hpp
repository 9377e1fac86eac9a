// SPDX-License-Identifier: Apache-2.0
/// @file link_server.hpp
/// Inside a worker: serves the host's link (worker_link.hpp), on which the
/// host sends every call to the worker, several at once.
///
/// One thread reads the link and runs each call inline, then takes the next
/// call that queued meanwhile without sleeping: under load that saves a
/// wake-up per call. So that a module's calls still run concurrently, a
/// standby thread looks every millisecond: when a call has run since its
/// last look, the standby takes the link over and reads on, the long call
/// keeps its thread to the end, and a new standby is started. A call
/// therefore waits at most about two milliseconds behind a long one. The
/// standby sleeps without a timeout once the link has been quiet for a
/// tenth of a second, and the next call wakes it.
///
/// Calls that fit come through the region's call ring instead of the
/// socket (message_ring.hpp): the ring has a reader and a standby of its
/// own, as the socket has, and answers that fit go back in the answer ring.
/// The ring's reader runs SCHED_BATCH (link_server.cpp says why), and so
/// do the calls it runs and any thread a plugin starts in one of them.
#pragma once

#include <drpc/module.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <sys/types.h>
#include <thread>
#include <vector>

namespace drpc::host::isolation {

class SharedRegion;

class LinkServer {
public:
	/// Serves the connections made to `listen_fd` (taken), routing each
	/// call to the module of `modules` with its ID. `max_message_bytes`
	/// bounds a call and an answer. `rings` (may be null) holds the message
	/// rings that the first connection made by process `host` also reads
	/// and answers through (no other process's: the plugin may connect too).
	/// `ring_spin` bounds how long the call ring's reader spins before it
	/// sleeps (spin_budget.hpp; zero: never).
	LinkServer(int listen_fd, std::vector<std::shared_ptr<drpc::Module>> modules, size_t max_message_bytes,
	           std::shared_ptr<const SharedRegion> rings, pid_t host, std::chrono::microseconds ring_spin);
	/// shutdown() with no deadline, then closes the listening socket.
	~LinkServer();
	LinkServer(const LinkServer &) = delete;
	LinkServer &operator=(const LinkServer &) = delete;

	/// Starts accepting. Throws std::system_error when the thread cannot start.
	void start();
	/// Stops accepting and reading; waits up to `drain` for calls running.
	/// False when some still run (their threads then stay). Idempotent.
	bool shutdown(std::chrono::milliseconds drain);

	struct Link;

private:
	friend struct Link;
	void accept_loop() noexcept;
	/// Runs `work` on a thread of its own, counted for shutdown(); false
	/// when no thread can be started.
	bool spawn(std::function<void()> work) noexcept;

	const int listen_fd_;
	const std::vector<std::shared_ptr<drpc::Module>> modules_;
	const size_t max_message_bytes_;
	const std::shared_ptr<const SharedRegion> rings_;
	const pid_t host_;
	const std::chrono::microseconds ring_spin_;
	std::thread acceptor_;
	std::mutex mutex_;
	std::condition_variable threads_changed_;
	bool stopping_ = false;                  // guarded by mutex_
	size_t threads_ = 0;                     // guarded by mutex_; besides the acceptor
	std::vector<std::weak_ptr<Link>> links_; // guarded by mutex_
	bool rings_taken_ = false;               // on the acceptor thread only
};

} // namespace drpc::host::isolation
