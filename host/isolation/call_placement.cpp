// SPDX-License-Identifier: Apache-2.0
// Running a relayed call on its caller's CPU.
#include "call_placement.hpp"

#include <algorithm>
#include <pthread.h>
#include <sys/sysinfo.h>
#include <utility>

namespace drpc::host::isolation {
namespace {

[[nodiscard]] bool usable(int32_t cpu) noexcept { return cpu >= 0 && cpu < CPU_SETSIZE; }

[[nodiscard]] cpu_set_t only(int32_t cpu) noexcept
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return set;
}

/// No thread has been placed yet: its CPUs are whatever it inherited.
constexpr int32_t unplaced = -2;

/// Makes `cpus` the CPUs of every thread started later with default
/// attributes, keeping the other defaults.
[[nodiscard]] bool start_threads_on(const cpu_set_t &cpus) noexcept
{
	pthread_attr_t defaults;
	if (::pthread_getattr_default_np(&defaults) != 0)
		return false;
	const bool set = ::pthread_attr_setaffinity_np(&defaults, sizeof(cpus), &cpus) == 0 &&
	                 ::pthread_setattr_default_np(&defaults) == 0;
	::pthread_attr_destroy(&defaults);
	return set;
}

/// How many CPUs the calling thread may run on now (placeable_cpus() when
/// that cannot be read).
[[nodiscard]] size_t cpus_of_this_thread() noexcept
{
	cpu_set_t set;
	if (::sched_getaffinity(0, sizeof(set), &set) != 0 || CPU_COUNT(&set) <= 0)
		return placeable_cpus();
	return static_cast<size_t>(CPU_COUNT(&set));
}

} // namespace

int32_t current_cpu() noexcept
{
	const int cpu = ::sched_getcpu();
	return usable(cpu) ? cpu : any_cpu;
}

size_t placeable_cpus() noexcept { return static_cast<size_t>(std::clamp(::get_nprocs_conf(), 1, CPU_SETSIZE)); }

HeldCpus::HeldCpus(size_t cpus, size_t run_on) : held_(cpus), run_on_(run_on == 0 ? cpus : run_on) {}

HeldCpus &HeldCpus::host()
{
	// Never destroyed: a call may give its CPU back during exit().
	static HeldCpus *const cpus = new HeldCpus(placeable_cpus(), cpus_of_this_thread());
	return *cpus;
}

HeldCpus::InFlight::InFlight(HeldCpus &cpus) noexcept : cpus_(&cpus)
{
	cpus_->in_flight_.fetch_add(1, std::memory_order_relaxed);
}

HeldCpus::InFlight::InFlight(InFlight &&other) noexcept : cpus_(std::exchange(other.cpus_, nullptr)) {}

HeldCpus::InFlight &HeldCpus::InFlight::operator=(InFlight &&other) noexcept
{
	if (this != &other) {
		if (cpus_)
			cpus_->in_flight_.fetch_sub(1, std::memory_order_relaxed);
		cpus_ = std::exchange(other.cpus_, nullptr);
	}
	return *this;
}

HeldCpus::InFlight::~InFlight()
{
	if (cpus_)
		cpus_->in_flight_.fetch_sub(1, std::memory_order_relaxed);
}

bool HeldCpus::crowded() const noexcept { return in_flight_.load(std::memory_order_relaxed) > run_on_; }

bool HeldCpus::take(int32_t cpu) noexcept
{
	return cpu >= 0 && static_cast<size_t>(cpu) < held_.size() &&
	       !held_[static_cast<size_t>(cpu)].exchange(true, std::memory_order_acquire);
}

void HeldCpus::give_back(int32_t cpu) noexcept
{
	if (cpu >= 0 && static_cast<size_t>(cpu) < held_.size())
		held_[static_cast<size_t>(cpu)].store(false, std::memory_order_release);
}

CallerPin::CallerPin(int32_t cpu) noexcept
{
	if (!usable(cpu) || ::sched_getaffinity(0, sizeof(saved_), &saved_) != 0 || !CPU_ISSET(cpu, &saved_))
		return;
	const cpu_set_t target = only(cpu);
	if (::sched_setaffinity(0, sizeof(target), &target) == 0)
		cpu_ = cpu;
}

CallerPin::~CallerPin()
{
	if (cpu_ != any_cpu)
		(void)::sched_setaffinity(0, sizeof(saved_), &saved_);
}

ThreadPlacement::ThreadPlacement() noexcept
{
	cpu_set_t own;
	if (::sched_getaffinity(0, sizeof(own), &own) == 0 && start_threads_on(own))
		own_ = own;
}

void ThreadPlacement::run_here(int32_t cpu) const noexcept
{
	// Per thread, what it was last asked for: a thread a pinned one spawned
	// inherits its pin, so each thread's first call sets its CPUs anyway.
	thread_local int32_t placed = unplaced;
	if (cpu == placed)
		return;
	cpu_set_t target;
	{
		const std::lock_guard lock(mutex_);
		if (!own_)
			return;
		target = usable(cpu) && CPU_ISSET(cpu, &*own_) ? only(cpu) : *own_;
	}
	if (::sched_setaffinity(0, sizeof(target), &target) == 0)
		placed = cpu;
}

void ThreadPlacement::refresh() noexcept
{
	cpu_set_t now;
	if (::sched_getaffinity(0, sizeof(now), &now) != 0)
		return;
	const std::lock_guard lock(mutex_);
	if (own_ && !CPU_EQUAL(&now, &*own_) && start_threads_on(now))
		own_ = now;
}

} // namespace drpc::host::isolation
