// SPDX-License-Identifier: Apache-2.0
/// @file worker_connections.hpp
/// The host's connections to one worker process: a pool of
/// drpc::ClientConnection, so that several calls run at once, as in-process,
/// one home connection per CPU for calls that run on their caller's CPU
/// (call_placement.hpp), and the slots of the region it shares with the
/// worker (shared_region.hpp).
#pragma once

#include "call_placement.hpp"
#include "shared_region.hpp"

#include <drpc/client.hpp>

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <sys/types.h>
#include <vector>

namespace drpc::host::isolation {

class WorkerConnections;

/// What one call to a worker runs on. Must not outlive its WorkerConnections.
class WorkerLease {
public:
	WorkerLease() = default;
	WorkerLease(WorkerLease &&other) noexcept;
	WorkerLease &operator=(WorkerLease &&other) noexcept;
	/// A home connection not given back (its call failed) is forgotten, so
	/// that its CPU gets a new one.
	~WorkerLease();

	/// The CPU whose home connection this is, or any_cpu.
	[[nodiscard]] int32_t home_cpu() const noexcept { return home_cpu_; }

	std::unique_ptr<drpc::ClientConnection> connection;
	/// A slot of the shared region, held for the call; none when all are taken.
	std::optional<uint32_t> slot;

private:
	friend class WorkerConnections;
	WorkerConnections *home_of_ = nullptr;
	int32_t home_cpu_ = any_cpu;
	HeldCpus::InFlight in_flight_;
};

class WorkerConnections {
public:
	/// Connections to `socket`, whose listener (SO_PEERCRED) must be
	/// `worker_uid`: the host, which bound it, so nobody else did. A call
	/// runs on its home connection only while it holds its CPU in
	/// `held_cpus`.
	WorkerConnections(std::filesystem::path socket, uid_t worker_uid, pid_t pid, SharedRegion region,
	                  HeldCpus &held_cpus = HeldCpus::host());

	/// The home connection of `cpu` when no call holds it, nor that CPU in
	/// any module, and the host is not crowded with calls (HeldCpus; the
	/// lease counts as one in flight; home_cpu() then says so; a CPU without
	/// one yet makes it of an idle or new connection),
	/// else an idle connection, or a new one; and a free slot if there is
	/// one. Throws what connect() throws.
	[[nodiscard]] WorkerLease take(int32_t cpu = any_cpu);
	/// Keeps the connection, when it is still usable, and the slot for the
	/// next call. Only for a call that ended with an answer: a slot whose
	/// call failed may still be written by the worker, so it is not reused.
	void give_back(WorkerLease lease) noexcept;
	/// Frees the pages of the slots no call holds: for the host's quiet
	/// moments (the region keeps them for speed while busy). Every free
	/// slot, not only those the host used: the worker may write any.
	void release_free_slots() noexcept;

	[[nodiscard]] pid_t pid() const noexcept { return pid_; }
	[[nodiscard]] const SharedRegion &region() const noexcept { return region_; }

	/// Idle connections kept beyond this are closed.
	static constexpr size_t max_idle = 64;

private:
	friend class WorkerLease;
	/// One CPU's home connection: idle, held by a call (busy), or not made yet.
	struct Home {
		std::unique_ptr<drpc::ClientConnection> idle;
		bool busy = false;
	};
	void forget_home(int32_t cpu) noexcept;
	[[nodiscard]] std::unique_ptr<drpc::ClientConnection> connect() const;

	const std::filesystem::path socket_;
	const uid_t worker_uid_;
	const pid_t pid_;
	const SharedRegion region_;
	HeldCpus &held_cpus_;
	std::mutex mutex_;
	std::vector<std::unique_ptr<drpc::ClientConnection>> idle_; // guarded by mutex_
	std::vector<uint32_t> free_slots_;                          // guarded by mutex_
	std::vector<Home> homes_;                                   // guarded by mutex_; by CPU
};

} // namespace drpc::host::isolation
