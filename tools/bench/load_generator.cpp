// SPDX-License-Identifier: Apache-2.0
// The closed-loop load runner: connection threads, phases, per-call timing.
#include "load_generator.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <pthread.h>
#include <sys/resource.h>
#include <thread>

namespace drpc::bench {
namespace {

using Clock = std::chrono::steady_clock;

enum class Phase { connecting, warming, measuring, stopping };

/// Samples are reserved up front for up to this many calls per second over
/// all connections, so that recording never allocates inside the loop at any
/// rate this kind of machine reaches.
constexpr double max_expected_calls_per_second = 1'000'000;

struct Shared {
	std::atomic<Phase> phase{Phase::connecting};
	std::mutex mutex;
	std::condition_variable changed; // arrived, finished or failed moved
	unsigned arrived = 0;            // connected or failed
	unsigned finished = 0;           // done measuring (count mode)
	Clock::time_point last_finish;
	std::string error;
};

void report_failure(Shared &shared, unsigned index, const std::string &what)
{
	{
		const std::lock_guard lock(shared.mutex);
		if (shared.error.empty())
			shared.error = "connection " + std::to_string(index) + ": " + what;
	}
	shared.changed.notify_all();
}

void connection_thread(const LoadSpec &spec, const CallerFactory &make_caller, unsigned index, Shared &shared,
                       std::vector<int64_t> &samples) noexcept
{
	bool arrived = false;
	try {
		::pthread_setname_np(::pthread_self(), spec.thread_name.substr(0, 15).c_str());
		std::unique_ptr<Caller> caller = make_caller(index);
		{
			const std::lock_guard lock(shared.mutex);
			++shared.arrived;
			arrived = true;
		}
		shared.changed.notify_all();
		shared.phase.wait(Phase::connecting);

		while (shared.phase.load(std::memory_order_relaxed) == Phase::warming)
			caller->call();

		const uint64_t limit = spec.calls_per_connection;
		while (shared.phase.load(std::memory_order_relaxed) == Phase::measuring) {
			const Clock::time_point start = Clock::now();
			caller->call();
			const Clock::time_point end = Clock::now();
			samples.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count());
			if (limit != 0 && samples.size() == limit) {
				{
					const std::lock_guard lock(shared.mutex);
					++shared.finished;
					shared.last_finish = std::max(shared.last_finish, end);
				}
				shared.changed.notify_all();
				break;
			}
		}
	} catch (const std::exception &e) {
		report_failure(shared, index, e.what());
	} catch (...) {
		report_failure(shared, index, "unknown exception");
	}
	if (!arrived) {
		{
			const std::lock_guard lock(shared.mutex);
			++shared.arrived;
		}
		shared.changed.notify_all();
	}
}

/// What the process has used so far, all threads together.
struct Usage {
	std::chrono::nanoseconds cpu{};
	uint64_t context_switches = 0;
	std::optional<MachineCpu> machine;

	static Usage now() noexcept
	{
		rusage usage{};
		::getrusage(RUSAGE_SELF, &usage);
		const auto to_ns = [](const timeval &time) {
			return std::chrono::seconds(time.tv_sec) + std::chrono::microseconds(time.tv_usec);
		};
		return {to_ns(usage.ru_utime) + to_ns(usage.ru_stime),
		        static_cast<uint64_t>(usage.ru_nvcsw) + static_cast<uint64_t>(usage.ru_nivcsw),
		        MachineCpu::now()};
	}
};

size_t samples_to_reserve(const LoadSpec &spec)
{
	if (spec.calls_per_connection != 0)
		return spec.calls_per_connection;
	const double seconds = std::chrono::duration<double>(spec.duration).count();
	return static_cast<size_t>(std::ceil(seconds * max_expected_calls_per_second / spec.connections)) + 1;
}

} // namespace

double LoadResult::calls_per_second() const noexcept
{
	const double seconds = std::chrono::duration<double>(elapsed).count();
	return seconds > 0 ? static_cast<double>(calls()) / seconds : 0.0;
}

LoadResult run_load(const LoadSpec &spec, const CallerFactory &make_caller)
{
	const unsigned connections = std::max(1U, spec.connections);
	std::vector<std::vector<int64_t>> samples(connections);
	for (auto &per_connection : samples)
		per_connection.reserve(samples_to_reserve(spec));

	Shared shared;
	std::vector<std::thread> threads;
	threads.reserve(connections);
	for (unsigned i = 0; i < connections; ++i)
		threads.emplace_back(connection_thread, std::cref(spec), std::cref(make_caller), i, std::ref(shared),
		                     std::ref(samples[i]));

	const auto set_phase = [&](Phase phase) {
		shared.phase.store(phase);
		shared.phase.notify_all();
	};
	const auto failed = [&] { return !shared.error.empty(); };

	Clock::time_point start;
	Clock::time_point end;
	Usage usage_start;
	Usage usage_end;
	{
		std::unique_lock lock(shared.mutex);
		shared.changed.wait(lock, [&] { return shared.arrived == connections; });
		if (!failed()) {
			lock.unlock();
			set_phase(Phase::warming);
			lock.lock();
			shared.changed.wait_for(lock, spec.warmup, failed);
		}
		if (!failed()) {
			lock.unlock();
			usage_start = Usage::now();
			start = Clock::now();
			shared.last_finish = start;
			set_phase(Phase::measuring);
			if (spec.while_measuring)
				spec.while_measuring();
			lock.lock();
			if (spec.calls_per_connection != 0) {
				shared.changed.wait(lock, [&] { return failed() || shared.finished == connections; });
				end = shared.last_finish;
			} else {
				shared.changed.wait_until(lock, start + spec.duration, failed);
				end = Clock::now();
			}
			usage_end = Usage::now();
		}
	}
	set_phase(Phase::stopping);
	for (std::thread &thread : threads)
		thread.join();

	LoadResult result;
	result.error = shared.error;
	result.elapsed = end - start;
	result.cpu = usage_end.cpu - usage_start.cpu;
	result.context_switches = usage_end.context_switches - usage_start.context_switches;
	if (usage_start.machine && usage_end.machine)
		result.machine = usage_end.machine->since(*usage_start.machine);
	size_t total = 0;
	for (const auto &per_connection : samples)
		total += per_connection.size();
	result.latencies_ns.reserve(total);
	for (const auto &per_connection : samples)
		result.latencies_ns.insert(result.latencies_ns.end(), per_connection.begin(), per_connection.end());
	return result;
}

} // namespace drpc::bench
