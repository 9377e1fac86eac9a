// SPDX-License-Identifier: Apache-2.0
// The deferred answers' sender thread (see answer_sender.hpp).
#include "answer_sender.hpp"

#include "session.hpp"

#include <drpc/log.hpp>

#include <algorithm>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <system_error>

namespace drpc::detail {

AnswerSender::~AnswerSender() { stop(); }

void AnswerSender::start_locked()
{
	epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
	if (epoll_.get() < 0)
		throw std::system_error(errno, std::generic_category(), "epoll_create1");
	wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
	if (wake_.get() < 0)
		throw std::system_error(errno, std::generic_category(), "eventfd");
	epoll_event event{};
	event.events = EPOLLIN;
	event.data.fd = -1;
	if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_.get(), &event) != 0)
		throw std::system_error(errno, std::generic_category(), "epoll_ctl");
	thread_ = std::thread(&AnswerSender::loop, this);
}

void AnswerSender::add(Session &session, Clock::time_point deadline) noexcept
{
	{
		const std::lock_guard lock(mutex_);
		try {
			if (stopping_)
				throw std::system_error(ESHUTDOWN, std::generic_category(), "the server is stopping");
			if (!thread_.joinable())
				start_locked();
			added_.push_back({&session, deadline});
			(void)::eventfd_write(wake_.get(), 1);
			return;
		} catch (const std::exception &e) {
			log::warn("server", session.description() +
			                            ": closing: an answer its socket could not take at once has no "
			                            "sender thread: " +
			                            e.what());
		}
	}
	session.answer_timed_out();
}

void AnswerSender::watch_added() noexcept
{
	std::vector<Job> added;
	{
		const std::lock_guard lock(mutex_);
		added.swap(added_);
	}
	for (const Job &job : added) {
		epoll_event event{};
		event.events = EPOLLOUT | EPOLLONESHOT;
		event.data.fd = job.session->fd();
		try {
			if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, job.session->fd(), &event) != 0)
				throw std::system_error(errno, std::generic_category(), "epoll_ctl");
			watched_.emplace(job.session->fd(), job);
		} catch (const std::exception &e) {
			(void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, job.session->fd(), nullptr);
			log::warn("server", job.session->description() +
			                            ": closing: cannot wait to send its answer: " + e.what());
			job.session->answer_timed_out();
		}
	}
}

void AnswerSender::end(int fd, bool sent) noexcept
{
	const auto found = watched_.find(fd);
	if (found == watched_.end())
		return;
	Session &session = *found->second.session;
	// Out of the set before the session may send (and add) its next answer.
	(void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
	watched_.erase(found);
	if (sent)
		session.answer_done();
	else
		session.answer_timed_out();
}

void AnswerSender::loop() noexcept
{
	::pthread_setname_np(::pthread_self(), "drpc-answers");
	std::vector<epoll_event> events(64);
	for (;;) {
		int timeout = -1;
		const auto now = Clock::now();
		for (const auto &[fd, job] : watched_) {
			if (job.deadline == Clock::time_point::max())
				continue;
			const auto left = std::chrono::ceil<std::chrono::milliseconds>(job.deadline - now).count();
			const int capped = static_cast<int>(std::clamp<int64_t>(left, 0, INT32_MAX));
			timeout = timeout < 0 ? capped : std::min(timeout, capped);
		}
		const int ready = ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), timeout);
		for (int i = 0; i < ready; ++i) {
			const int fd = events[static_cast<size_t>(i)].data.fd;
			if (fd == -1) {
				eventfd_t ignored;
				(void)::eventfd_read(wake_.get(), &ignored);
				continue;
			}
			const auto found = watched_.find(fd);
			if (found == watched_.end())
				continue;
			if (found->second.session->send_more_of_answer()) {
				end(fd, true);
				continue;
			}
			epoll_event event{};
			event.events = EPOLLOUT | EPOLLONESHOT;
			event.data.fd = fd;
			if (::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &event) != 0)
				end(fd, false);
		}
		bool stopping;
		{
			const std::lock_guard lock(mutex_);
			stopping = stopping_;
		}
		watch_added();
		std::vector<int> expired;
		const auto after = Clock::now();
		for (const auto &[fd, job] : watched_)
			if (stopping || job.deadline <= after)
				expired.push_back(fd);
		for (const int fd : expired)
			end(fd, false);
		if (stopping)
			return;
	}
}

void AnswerSender::stop() noexcept
{
	{
		const std::lock_guard lock(mutex_);
		if (stopping_)
			return;
		stopping_ = true;
		if (wake_.get() >= 0)
			(void)::eventfd_write(wake_.get(), 1);
	}
	if (thread_.joinable())
		thread_.join();
}

} // namespace drpc::detail
