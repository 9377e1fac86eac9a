// SPDX-License-Identifier: Apache-2.0
/// @file worker_monitor.hpp
/// The one thread that starts, watches and restarts worker processes: an
/// epoll loop over their pidfds and output pipes, with timers for restart
/// backoff. Workers are forked from this thread, which lives as long as
/// the host's lifecycle, because a worker's death signal follows the thread
/// that forked it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <drpc/unique_fd.hpp>

namespace drpc::host::isolation {

class WorkerMonitor {
public:
	using Clock = std::chrono::steady_clock;
	using Task = std::function<void()>;

	/// Starts the thread. Throws drpc::SystemError (epoll, eventfd).
	WorkerMonitor();
	/// Stops the thread; tasks still queued are dropped.
	~WorkerMonitor();
	WorkerMonitor(const WorkerMonitor &) = delete;
	WorkerMonitor &operator=(const WorkerMonitor &) = delete;

	/// Runs `task` on the monitor thread and returns once it has run (at
	/// once when called from that thread). What it throws is rethrown here.
	void run(const Task &task);
	/// Queues `task` for the monitor thread.
	void post(Task task);

	// The rest only from the monitor thread (inside a task or handler).

	/// Calls `on_readable` whenever `fd` is readable (or hung up), until
	/// unwatch(fd).
	void watch(int fd, Task on_readable);
	void unwatch(int fd) noexcept;
	/// Calls `task` once at `when`; returns an ID for cancel().
	uint64_t at(Clock::time_point when, Task task);
	void cancel(uint64_t timer) noexcept;

	[[nodiscard]] bool on_monitor_thread() const noexcept { return std::this_thread::get_id() == thread_.get_id(); }

private:
	void loop() noexcept;
	void wake() noexcept;
	/// Runs the due timers; returns the epoll timeout until the next one.
	int run_timers();

	drpc::UniqueFd epoll_;
	drpc::UniqueFd wake_;
	std::mutex mutex_;
	std::vector<Task> tasks_; // guarded by mutex_
	bool stopping_ = false;   // guarded by mutex_
	// The monitor thread's own, touched by it alone.
	std::map<int, Task> watched_;
	std::multimap<Clock::time_point, std::pair<uint64_t, Task>> timers_;
	uint64_t next_timer_ = 1;
	std::thread thread_;
};

} // namespace drpc::host::isolation
