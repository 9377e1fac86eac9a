// SPDX-License-Identifier: Apache-2.0
// The pool of connections to one worker, its home connections, and its
// region's slots.
#include "worker_connections.hpp"

#include <utility>

namespace drpc::host::isolation {

WorkerLease::WorkerLease(WorkerLease &&other) noexcept
	: connection(std::move(other.connection)),
	  slot(std::exchange(other.slot, std::nullopt)),
	  home_of_(std::exchange(other.home_of_, nullptr)),
	  home_cpu_(std::exchange(other.home_cpu_, any_cpu)),
	  in_flight_(std::move(other.in_flight_))
{
}

WorkerLease &WorkerLease::operator=(WorkerLease &&other) noexcept
{
	if (this != &other) {
		if (home_of_)
			home_of_->forget_home(home_cpu_);
		connection = std::move(other.connection);
		slot = std::exchange(other.slot, std::nullopt);
		home_of_ = std::exchange(other.home_of_, nullptr);
		home_cpu_ = std::exchange(other.home_cpu_, any_cpu);
		in_flight_ = std::move(other.in_flight_);
	}
	return *this;
}

WorkerLease::~WorkerLease()
{
	if (home_of_)
		home_of_->forget_home(home_cpu_);
}

WorkerConnections::WorkerConnections(std::filesystem::path socket, uid_t worker_uid, pid_t pid, SharedRegion region,
                                     HeldCpus &held_cpus)
	: socket_(std::move(socket)),
	  worker_uid_(worker_uid),
	  pid_(pid),
	  region_(std::move(region)),
	  held_cpus_(held_cpus),
	  homes_(placeable_cpus())
{
	// Reserved, so that give_back() never allocates.
	idle_.reserve(max_idle);
	free_slots_.reserve(SharedRegion::slot_count);
	// Slot 0 is taken first, so that a lone caller keeps touching the same pages.
	for (uint32_t slot = SharedRegion::slot_count; slot > 0; --slot)
		free_slots_.push_back(slot - 1);
}

WorkerLease WorkerConnections::take(int32_t cpu)
{
	WorkerLease lease;
	lease.in_flight_ = HeldCpus::InFlight(held_cpus_);
	const bool placing = cpu >= 0 && !held_cpus_.crowded();
	{
		const std::lock_guard lock(mutex_);
		if (!free_slots_.empty()) {
			lease.slot = free_slots_.back();
			free_slots_.pop_back();
		}
		if (placing && static_cast<size_t>(cpu) < homes_.size() && !homes_[cpu].busy && held_cpus_.take(cpu)) {
			Home &home = homes_[cpu];
			home.busy = true;
			lease.home_of_ = this;
			lease.home_cpu_ = cpu;
			if (home.idle) {
				lease.connection = std::move(home.idle);
				return lease;
			}
		}
		// A CPU without a home connection yet makes an idle one its home.
		if (!idle_.empty()) {
			lease.connection = std::move(idle_.back());
			idle_.pop_back();
			return lease;
		}
	}
	try {
		lease.connection = connect();
	} catch (...) {
		if (lease.slot) {
			// Nothing was sent with it: it is as free as before.
			const std::lock_guard lock(mutex_);
			free_slots_.push_back(*lease.slot);
		}
		throw; // the lease's home, if any, is forgotten with it
	}
	return lease;
}

void WorkerConnections::give_back(WorkerLease lease) noexcept
{
	const std::lock_guard lock(mutex_);
	if (lease.slot)
		free_slots_.push_back(*lease.slot);
	const bool usable = lease.connection->is_connected();
	if (lease.home_of_) {
		Home &home = homes_[lease.home_cpu_];
		home.busy = false;
		held_cpus_.give_back(lease.home_cpu_);
		if (usable)
			home.idle = std::move(lease.connection);
		lease.home_of_ = nullptr;
		return;
	}
	if (usable && idle_.size() < max_idle)
		idle_.push_back(std::move(lease.connection));
}

void WorkerConnections::release_free_slots() noexcept
{
	// Under the lock: a slot released here cannot be taken meanwhile.
	const std::lock_guard lock(mutex_);
	for (const uint32_t slot : free_slots_)
		region_.release(slot);
}

void WorkerConnections::forget_home(int32_t cpu) noexcept
{
	const std::lock_guard lock(mutex_);
	homes_[cpu].busy = false;
	held_cpus_.give_back(cpu);
}

std::unique_ptr<drpc::ClientConnection> WorkerConnections::connect() const
{
	auto connection = std::make_unique<drpc::ClientConnection>(
		socket_, drpc::ClientOptions{
				 // Answers are capped by the host's own limit when they reach the client.
				 .max_message_bytes = (size_t{1} << 30) + 4096,
				 .require_server_uid = worker_uid_,
			 });
	connection->connect();
	return connection;
}

} // namespace drpc::host::isolation
