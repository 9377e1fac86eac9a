// SPDX-License-Identifier: Apache-2.0
// The pool of connections to one worker.
#include "worker_connections.hpp"

namespace drpc::host::isolation {

WorkerConnections::WorkerConnections(std::filesystem::path socket, uid_t worker_uid, pid_t pid)
	: socket_(std::move(socket)), worker_uid_(worker_uid), pid_(pid)
{
}

std::unique_ptr<drpc::ClientConnection> WorkerConnections::take()
{
	{
		const std::lock_guard lock(mutex_);
		if (!idle_.empty()) {
			std::unique_ptr<drpc::ClientConnection> connection = std::move(idle_.back());
			idle_.pop_back();
			return connection;
		}
	}
	auto connection = std::make_unique<drpc::ClientConnection>(
		socket_, drpc::ClientOptions{
				 // Answers are capped by the host's own limit when they reach the client.
				 .max_message_bytes = (size_t{1} << 30) + 4096,
				 .require_server_uid = worker_uid_,
			 });
	connection->connect();
	return connection;
}

void WorkerConnections::give_back(std::unique_ptr<drpc::ClientConnection> connection) noexcept
{
	if (!connection->is_connected())
		return;
	const std::lock_guard lock(mutex_);
	if (idle_.size() < max_idle)
		idle_.push_back(std::move(connection));
}

} // namespace drpc::host::isolation
