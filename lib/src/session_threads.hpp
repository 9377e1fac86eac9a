// SPDX-License-Identifier: Apache-2.0
/// @file session_threads.hpp
/// The threads that run busy sessions: one thread per session while it is
/// served, with a few idle threads kept ready so a new connection starts at
/// once, and a cap on how many may exist.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>

namespace drpc::detail {

class SessionThreads {
public:
	/// `max_threads` zero: only the system limits the count.
	SessionThreads(size_t spare_threads, size_t max_threads);
	/// Waits for every thread to finish (see stop()).
	~SessionThreads();
	SessionThreads(const SessionThreads &) = delete;
	SessionThreads &operator=(const SessionThreads &) = delete;

	/// Runs `work` on an idle thread, or on a new one when none is idle.
	/// Throws std::system_error when no thread can be created (EAGAIN also
	/// when `max_threads` are running).
	void run(std::function<void()> work);

	/// Lets idle threads exit and waits until every thread is gone. Work
	/// must already be on its way out (the server closes the sessions first).
	void stop();

private:
	void thread_main(std::function<void()> work) noexcept;

	const size_t spare_threads_;
	const size_t max_threads_;
	std::mutex mutex_;
	std::condition_variable work_ready_;
	std::condition_variable all_exited_;
	std::deque<std::function<void()>> queue_;
	size_t idle_ = 0;
	size_t live_ = 0;
	bool stopping_ = false;
};

} // namespace drpc::detail
