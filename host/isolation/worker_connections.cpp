// SPDX-License-Identifier: Apache-2.0
// The pool of connections to one worker, and its region's slots.
#include "worker_connections.hpp"

namespace drpc::host::isolation {

WorkerConnections::WorkerConnections(std::filesystem::path socket, uid_t worker_uid, pid_t pid, SharedRegion region)
	: socket_(std::move(socket)), worker_uid_(worker_uid), pid_(pid), region_(std::move(region))
{
	// Reserved, so that give_back() never allocates.
	idle_.reserve(max_idle);
	free_slots_.reserve(SharedRegion::slot_count);
	// Slot 0 is taken first, so that a lone caller keeps touching the same pages.
	for (uint32_t slot = SharedRegion::slot_count; slot > 0; --slot)
		free_slots_.push_back(slot - 1);
}

WorkerLease WorkerConnections::take()
{
	WorkerLease lease;
	{
		const std::lock_guard lock(mutex_);
		if (!free_slots_.empty()) {
			lease.slot = free_slots_.back();
			free_slots_.pop_back();
		}
		if (!idle_.empty()) {
			lease.connection = std::move(idle_.back());
			idle_.pop_back();
			return lease;
		}
	}
	auto connection = std::make_unique<drpc::ClientConnection>(
		socket_, drpc::ClientOptions{
				 // Answers are capped by the host's own limit when they reach the client.
				 .max_message_bytes = (size_t{1} << 30) + 4096,
				 .require_server_uid = worker_uid_,
			 });
	try {
		connection->connect();
	} catch (...) {
		if (lease.slot) {
			// Nothing was sent with it: it is as free as before.
			const std::lock_guard lock(mutex_);
			free_slots_.push_back(*lease.slot);
		}
		throw;
	}
	lease.connection = std::move(connection);
	return lease;
}

void WorkerConnections::give_back(WorkerLease lease) noexcept
{
	const std::lock_guard lock(mutex_);
	if (lease.slot)
		free_slots_.push_back(*lease.slot);
	if (lease.connection->is_connected() && idle_.size() < max_idle)
		idle_.push_back(std::move(lease.connection));
}

void WorkerConnections::release_free_slots() noexcept
{
	// Under the lock: a slot released here cannot be taken meanwhile.
	const std::lock_guard lock(mutex_);
	for (const uint32_t slot : free_slots_)
		region_.release(slot);
}

} // namespace drpc::host::isolation
