// SPDX-License-Identifier: Apache-2.0
// One epoll loop for every quiet session.
#include "session_parker.hpp"

#include <drpc/error.hpp>
#include <drpc/log.hpp>

#include <cerrno>
#include <cstring>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace drpc::detail {

SessionParker::SessionParker(Handler on_ready, Handler on_expired)
	: on_ready_(std::move(on_ready)), on_expired_(std::move(on_expired))
{
	epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
	if (!epoll_.valid())
		throw SystemError("server: epoll_create1", errno);
	wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
	if (!wake_.valid())
		throw SystemError("server: eventfd", errno);
	epoll_event event{};
	event.events = EPOLLIN;
	event.data.fd = wake_.get();
	if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_.get(), &event) != 0)
		throw SystemError("server: epoll_ctl", errno);
}

SessionParker::~SessionParker() { stop(); }

void SessionParker::start() { thread_ = std::thread(&SessionParker::loop, this); }

void SessionParker::park(std::shared_ptr<Session> session, std::optional<Clock::time_point> deadline)
{
	const int fd = session->fd();
	const std::lock_guard lock(mutex_);
	if (stopping_)
		throw SystemError("server: park", ESHUTDOWN);
	// Registered before the watch starts, so the loop always finds it.
	auto [entry, inserted] = parked_.emplace(fd, Entry{std::move(session), deadline});
	try {
		if (deadline)
			deadlines_.emplace(*deadline, fd);
		epoll_event event{};
		event.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
		event.data.fd = fd;
		if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event) != 0)
			throw SystemError("server: epoll_ctl add", errno);
	} catch (...) {
		if (deadline)
			deadlines_.erase({*deadline, fd});
		parked_.erase(entry);
		throw;
	}
	if (deadline)
		::eventfd_write(wake_.get(), 1); // the loop may need a nearer timeout
}

std::shared_ptr<Session> SessionParker::take(int fd) noexcept
{
	std::shared_ptr<Session> session;
	{
		const std::lock_guard lock(mutex_);
		const auto found = parked_.find(fd);
		if (found == parked_.end())
			return nullptr;
		session = std::move(found->second.session);
		if (found->second.deadline)
			deadlines_.erase({*found->second.deadline, fd});
		parked_.erase(found);
		// Removed before anyone else can close or re-park the fd.
		(void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
	}
	return session;
}

std::pair<std::vector<std::shared_ptr<Session>>, std::optional<SessionParker::Clock::time_point>> SessionParker::
	take_expired()
{
	std::vector<std::shared_ptr<Session>> expired;
	std::optional<Clock::time_point> next;
	const auto now = Clock::now();
	const std::lock_guard lock(mutex_);
	while (!deadlines_.empty()) {
		const auto [when, fd] = *deadlines_.begin();
		if (when > now) {
			next = when;
			break;
		}
		deadlines_.erase(deadlines_.begin());
		const auto found = parked_.find(fd);
		if (found == parked_.end())
			continue;
		(void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
		expired.push_back(std::move(found->second.session));
		parked_.erase(found);
	}
	return {std::move(expired), next};
}

void SessionParker::loop() noexcept
{
	constexpr int batch = 64;
	epoll_event events[batch];
	for (;;) {
		std::optional<Clock::time_point> next;
		try {
			auto [expired, upcoming] = take_expired();
			next = upcoming;
			for (auto &session : expired)
				on_expired_(std::move(session));
		} catch (const std::exception &e) {
			log::error("server", std::string("parked sessions: ") + e.what());
		}
		int timeout_ms = -1;
		if (next)
			timeout_ms = static_cast<int>(
				std::chrono::ceil<std::chrono::milliseconds>(*next - Clock::now()).count());
		if (next && timeout_ms < 0)
			timeout_ms = 0;
		const int count = ::epoll_wait(epoll_.get(), events, batch, timeout_ms);
		if (count < 0 && errno != EINTR) {
			log::error("server", std::string("epoll_wait: ") + std::strerror(errno));
			return;
		}
		for (int i = 0; i < count; ++i) {
			const int fd = events[i].data.fd;
			if (fd == wake_.get()) {
				eventfd_t ignored;
				(void)::eventfd_read(wake_.get(), &ignored);
				const std::lock_guard lock(mutex_);
				if (stopping_)
					return;
				continue;
			}
			if (auto session = take(fd))
				on_ready_(std::move(session));
		}
	}
}

void SessionParker::stop() noexcept
{
	{
		const std::lock_guard lock(mutex_);
		if (stopping_)
			return;
		stopping_ = true;
	}
	::eventfd_write(wake_.get(), 1);
	if (thread_.joinable())
		thread_.join();
	std::unordered_map<int, Entry> left;
	{
		const std::lock_guard lock(mutex_);
		left.swap(parked_);
		deadlines_.clear();
	}
	for (auto &[fd, entry] : left) {
		(void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
		on_expired_(std::move(entry.session));
	}
}

size_t SessionParker::parked() const noexcept
{
	const std::lock_guard lock(mutex_);
	return parked_.size();
}

} // namespace drpc::detail
