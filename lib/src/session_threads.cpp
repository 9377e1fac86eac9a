// SPDX-License-Identifier: Apache-2.0
// The threads that run sessions, with a few idle ones kept ready.
#include "session_threads.hpp"

#include <drpc/log.hpp>

#include <cerrno>
#include <exception>
#include <string>
#include <system_error>
#include <thread>

namespace drpc::detail {

SessionThreads::SessionThreads(size_t spare_threads, size_t max_threads)
	: spare_threads_(spare_threads), max_threads_(max_threads)
{
}

SessionThreads::~SessionThreads() { stop(); }

void SessionThreads::run(std::function<void()> work)
{
	std::unique_lock lock(mutex_);
	if (idle_ > queue_.size()) {
		queue_.push_back(std::move(work));
		lock.unlock();
		work_ready_.notify_one();
		return;
	}
	if (max_threads_ != 0 && live_ >= max_threads_)
		throw std::system_error(EAGAIN, std::generic_category(),
		                        std::to_string(max_threads_) +
		                                " session threads are busy (server.max_threads)");
	++live_;
	lock.unlock();
	try {
		std::thread(&SessionThreads::thread_main, this, std::move(work)).detach();
	} catch (...) {
		lock.lock();
		--live_;
		throw;
	}
}

void SessionThreads::thread_main(std::function<void()> work) noexcept
{
	for (;;) {
		try {
			work();
		} catch (const std::exception &e) {
			log::error("server", std::string("session thread: unexpected exception: ") + e.what());
		} catch (...) {
			log::error("server", "session thread: unexpected exception");
		}
		work = nullptr;

		std::unique_lock lock(mutex_);
		if (stopping_ || idle_ >= spare_threads_)
			break;
		++idle_;
		work_ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
		--idle_;
		if (queue_.empty())
			break;
		work = std::move(queue_.front());
		queue_.pop_front();
	}
	// Nothing of this object is touched after the notification: stop() may
	// return and the owner destroy it as soon as live_ reaches 0.
	const std::lock_guard lock(mutex_);
	if (--live_ == 0)
		all_exited_.notify_all();
}

void SessionThreads::stop()
{
	std::unique_lock lock(mutex_);
	stopping_ = true;
	work_ready_.notify_all();
	all_exited_.wait(lock, [this] { return live_ == 0; });
}

} // namespace drpc::detail
