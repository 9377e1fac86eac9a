// SPDX-License-Identifier: Apache-2.0
/// @file call_placement.hpp
/// Where a call to an isolated module runs: on the CPU of the host thread
/// that relays it, when that CPU's home connection (worker_connections.hpp)
/// is free and the host is not crowded with calls (HeldCpus). A relayed call is two synchronous hops; with the host
/// thread and the worker thread on one CPU each hop is a local wakeup instead of a cross-CPU interrupt, which is most
/// of what a small call costs (measured in `drpc-bench --isolation`). One such call per CPU at a time: the others run
/// where the scheduler puts them, so a CPU-heavy plugin is never crowded onto
/// one CPU.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <sched.h>
#include <vector>

namespace drpc::host::isolation {

/// RelayHeader::cpu of a call that may run on any CPU.
inline constexpr int32_t any_cpu = -1;

/// The CPU the calling thread runs on now, or any_cpu when unknown.
[[nodiscard]] int32_t current_cpu() noexcept;

/// How many CPUs a call may be placed on: those configured, up to
/// CPU_SETSIZE.
[[nodiscard]] size_t placeable_cpus() noexcept;

/// Host side: the CPUs a relayed call is held on now, across every isolated
/// module, so that one call per CPU runs placed whatever module it is for
/// (else each module could crowd one call onto the same CPU); and how many
/// relayed calls are in flight, placed or not.
///
/// A call is placed only while no more calls are in flight (relayed calls and
/// control calls, running or blocked in the plugin) than the host has CPUs.
/// With more, the CPUs are most likely busy with calls: the scheduler keeps
/// their wakeups local already, and pinning a few only costs two affinity
/// changes per call and crowds pinned and unpinned calls onto one CPU.
/// Measured with `drpc-bench --isolation` (README, "Isolated plugins",
/// "Speed"): better at 8 connections, the same at 1.
class HeldCpus {
public:
	/// `cpus` CPUs that may be taken; `run_on` CPUs the host runs on (more
	/// calls in flight than that are crowded). Zero: `cpus`.
	explicit HeldCpus(size_t cpus, size_t run_on = 0);
	/// The host's: `run_on` is the CPU count of the thread that first uses it
	/// (a host thread; none is pinned outside a placed call).
	[[nodiscard]] static HeldCpus &host();

	/// Counts one call in flight to a worker for its lifetime.
	class InFlight {
	public:
		InFlight() = default;
		explicit InFlight(HeldCpus &cpus) noexcept;
		InFlight(InFlight &&other) noexcept;
		InFlight &operator=(InFlight &&other) noexcept;
		~InFlight();
		InFlight(const InFlight &) = delete;
		InFlight &operator=(const InFlight &) = delete;

	private:
		HeldCpus *cpus_ = nullptr;
	};

	/// Whether more relayed calls are in flight than the host has CPUs: no
	/// call is then placed.
	[[nodiscard]] bool crowded() const noexcept;

	/// Takes `cpu` for a call: false when a call holds it already, or for a
	/// CPU that cannot be placed on.
	[[nodiscard]] bool take(int32_t cpu) noexcept;
	/// Gives back a CPU take() gave.
	void give_back(int32_t cpu) noexcept;

private:
	std::vector<std::atomic<bool>> held_;
	const size_t run_on_;
	std::atomic<size_t> in_flight_{0};
};

/// Host side: keeps the calling thread on `cpu` for its lifetime, then gives
/// the thread back the CPUs it had. Does nothing for any_cpu, or for a CPU
/// the thread may not use.
class CallerPin {
public:
	explicit CallerPin(int32_t cpu) noexcept;
	~CallerPin();
	CallerPin(const CallerPin &) = delete;
	CallerPin &operator=(const CallerPin &) = delete;

	/// The CPU the thread is held on, or any_cpu when it is not.
	[[nodiscard]] int32_t cpu() const noexcept { return cpu_; }

private:
	int32_t cpu_ = any_cpu;
	cpu_set_t saved_{};
};

/// Worker side: puts each thread that serves a call on the CPU the host asked
/// for, or back on the worker's own CPUs for any_cpu. A thread keeps its
/// place between calls, so that a connection's thread is moved once, not per
/// call. One per process: the place a thread has is remembered per thread.
///
/// A thread inherits the CPUs of the thread that starts it, so a thread a
/// plugin starts inside a placed call would be held on that call's one CPU
/// for life. Every thread started with default attributes (std::thread,
/// pthread_create with no attributes) is started on the worker's own CPUs
/// instead; one started with attributes of its own that name no CPUs still
/// inherits, which the README says.
class ThreadPlacement {
public:
	/// Made on the worker's main thread, which serves no call: its CPUs are
	/// the worker's own, and the CPUs of threads started with default
	/// attributes. Places nothing when they cannot be read or given.
	ThreadPlacement() noexcept;

	/// Puts the calling thread on `cpu` if it is one of the worker's own,
	/// otherwise on all of them.
	void run_here(int32_t cpu) const noexcept;

	/// On the main thread, now and then (the worker: each second): takes up
	/// a change of its CPUs (`taskset -p`, a cpuset moved), for the calls
	/// placed and the threads started from then on. Threads must never be
	/// given CPUs the worker has lost: with none left, they could not start.
	void refresh() noexcept;

private:
	mutable std::mutex mutex_;
	std::optional<cpu_set_t> own_; // guarded by mutex_
};

} // namespace drpc::host::isolation
