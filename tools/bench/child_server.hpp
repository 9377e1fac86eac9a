// SPDX-License-Identifier: Apache-2.0
/// @file child_server.hpp
/// A server of the bench's in a process of its own, so that what it costs is
/// apart from the clients (and, for the relay, so that its hops cross
/// processes as an isolated call's do). Fork it before this process starts
/// any thread.
#pragma once

#include <csignal>
#include <filesystem>
#include <functional>
#include <string>
#include <sys/types.h>

namespace drpc::bench {

class ChildServer {
public:
	/// What the child runs, with SIGTERM and SIGINT blocked: serves, waits
	/// for one of `stop_signals` (sigwait), stops and returns its exit code.
	using Serve = std::function<int(const sigset_t &stop_signals)>;

	/// Forks `serve` and waits until `socket` accepts (up to 20 s). The child also gets
	/// SIGTERM when the thread that made it ends (PR_SET_PDEATHSIG): make it
	/// on the main thread, so that is when this process dies. Throws
	/// std::runtime_error naming `what`, also at once when the child exits
	/// before it accepts.
	ChildServer(std::string what, const std::filesystem::path &socket, Serve serve);
	/// Calls stop().
	~ChildServer();
	ChildServer(const ChildServer &) = delete;
	ChildServer &operator=(const ChildServer &) = delete;

	[[nodiscard]] pid_t pid() const noexcept { return pid_; }
	/// SIGTERM, then its exit status: 0 when its shutdown was clean.
	/// Idempotent.
	int stop() noexcept;

private:
	pid_t pid_ = -1;
	int status_ = -1;
};

} // namespace drpc::bench
