// SPDX-License-Identifier: Apache-2.0
/// @file worker_connections.hpp
/// The host's connections to one worker process: a pool of
/// drpc::ClientConnection, so that several calls run at once, as in-process.
#pragma once

#include <drpc/client.hpp>

#include <filesystem>
#include <memory>
#include <mutex>
#include <sys/types.h>
#include <vector>

namespace drpc::host::isolation {

class WorkerConnections {
public:
	/// Connections to `socket`, whose listener (SO_PEERCRED) must be
	/// `worker_uid`: the host, which bound it, so nobody else did.
	WorkerConnections(std::filesystem::path socket, uid_t worker_uid, pid_t pid);

	/// An idle connection, or a new one. Throws what connect() throws.
	[[nodiscard]] std::unique_ptr<drpc::ClientConnection> take();
	/// Keeps a connection that is still usable for the next call.
	void give_back(std::unique_ptr<drpc::ClientConnection> connection) noexcept;

	[[nodiscard]] pid_t pid() const noexcept { return pid_; }

	/// Idle connections kept beyond this are closed.
	static constexpr size_t max_idle = 64;

private:
	const std::filesystem::path socket_;
	const uid_t worker_uid_;
	const pid_t pid_;
	std::mutex mutex_;
	std::vector<std::unique_ptr<drpc::ClientConnection>> idle_; // guarded by mutex_
};

} // namespace drpc::host::isolation
