// SPDX-License-Identifier: Apache-2.0
// The worker monitor's thread: tasks, watched descriptors and timers.
#include "worker_monitor.hpp"

#include <drpc/error.hpp>
#include <drpc/log.hpp>

#include <cerrno>
#include <exception>
#include <future>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace drpc::host::isolation {
namespace {

constexpr std::string_view log_component = "isolation";

} // namespace

WorkerMonitor::WorkerMonitor() : epoll_(::epoll_create1(EPOLL_CLOEXEC)), wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK))
{
	if (!epoll_.valid() || !wake_.valid())
		throw drpc::SystemError("worker monitor: epoll/eventfd", errno);
	epoll_event event{};
	event.events = EPOLLIN;
	event.data.fd = wake_.get();
	if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_.get(), &event) != 0)
		throw drpc::SystemError("worker monitor: epoll_ctl", errno);
	thread_ = std::thread([this] { loop(); });
}

WorkerMonitor::~WorkerMonitor()
{
	{
		const std::lock_guard lock(mutex_);
		stopping_ = true;
	}
	wake();
	thread_.join();
}

void WorkerMonitor::wake() noexcept
{
	const uint64_t one = 1;
	(void)!::write(wake_.get(), &one, sizeof(one));
}

void WorkerMonitor::post(Task task)
{
	{
		const std::lock_guard lock(mutex_);
		tasks_.push_back(std::move(task));
	}
	wake();
}

void WorkerMonitor::run(const Task &task)
{
	if (on_monitor_thread()) {
		task();
		return;
	}
	std::promise<void> done;
	std::future<void> finished = done.get_future();
	post([&] {
		try {
			task();
			done.set_value();
		} catch (...) {
			done.set_exception(std::current_exception());
		}
	});
	finished.get();
}

void WorkerMonitor::watch(int fd, Task on_readable)
{
	epoll_event event{};
	event.events = EPOLLIN;
	event.data.fd = fd;
	if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event) != 0)
		throw drpc::SystemError("worker monitor: watch fd " + std::to_string(fd), errno);
	watched_[fd] = std::move(on_readable);
}

void WorkerMonitor::unwatch(int fd) noexcept
{
	if (watched_.erase(fd) != 0)
		(void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

uint64_t WorkerMonitor::at(Clock::time_point when, Task task)
{
	const uint64_t id = next_timer_++;
	timers_.emplace(when, std::make_pair(id, std::move(task)));
	return id;
}

void WorkerMonitor::cancel(uint64_t timer) noexcept
{
	for (auto it = timers_.begin(); it != timers_.end(); ++it) {
		if (it->second.first == timer) {
			timers_.erase(it);
			return;
		}
	}
}

int WorkerMonitor::run_timers()
{
	for (;;) {
		if (timers_.empty())
			return -1;
		const auto now = Clock::now();
		const auto first = timers_.begin();
		if (first->first > now)
			return static_cast<int>(
				std::chrono::ceil<std::chrono::milliseconds>(first->first - now).count());
		Task task = std::move(first->second.second);
		timers_.erase(first);
		task();
	}
}

void WorkerMonitor::loop() noexcept
{
	for (;;) {
		std::vector<Task> tasks;
		{
			const std::lock_guard lock(mutex_);
			if (stopping_)
				return;
			tasks.swap(tasks_);
		}
		for (Task &task : tasks) {
			try {
				task();
			} catch (const std::exception &e) {
				drpc::log::error(log_component, std::string("worker monitor task: ") + e.what());
			}
		}
		try {
			const int timeout = run_timers();
			epoll_event events[16];
			const int count = ::epoll_wait(epoll_.get(), events, 16, timeout);
			if (count < 0 && errno != EINTR)
				throw drpc::SystemError("worker monitor: epoll_wait", errno);
			for (int i = 0; i < count; ++i) {
				const int fd = events[i].data.fd;
				if (fd == wake_.get()) {
					uint64_t value = 0;
					(void)!::read(wake_.get(), &value, sizeof(value));
					continue;
				}
				// Looked up each time: an earlier handler may have unwatched it.
				if (const auto found = watched_.find(fd); found != watched_.end()) {
					Task handler = found->second; // a copy: the handler may unwatch itself
					handler();
				}
			}
		} catch (const std::exception &e) {
			drpc::log::error(log_component, std::string("worker monitor: ") + e.what());
		}
	}
}

} // namespace drpc::host::isolation
