// SPDX-License-Identifier: Apache-2.0
// The event-loop relay reference (see event_loop_relay.hpp for why).
#include "event_loop_relay.hpp"

#include "floor_server.hpp"
#include "seqpacket.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <system_error>
#include <unistd.h>

namespace drpc::bench {
namespace {

using Tag = uint32_t;

/// epoll data for the three kinds of descriptor: a client's is its tag.
constexpr uint64_t listener_key = uint64_t{1} << 32;
constexpr uint64_t upstream_key = listener_key + 1;
constexpr uint64_t stop_key = listener_key + 2;

constexpr int events_per_wait = 64;

void watch(int epoll, int fd, uint64_t key)
{
	epoll_event event{};
	event.events = EPOLLIN;
	event.data.u64 = key;
	if (::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) != 0)
		throw std::system_error(errno, std::generic_category(), "event-loop relay: epoll_ctl");
}

} // namespace

EventLoopRelay::EventLoopRelay(std::filesystem::path socket_path, const std::filesystem::path &upstream)
	: path_(std::move(socket_path)),
	  upstream_(connect_seqpacket(upstream)),
	  listener_(listen_seqpacket(path_)),
	  epoll_(::epoll_create1(EPOLL_CLOEXEC)),
	  stop_event_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
	  record_(floor_record_size)
{
	if (epoll_.get() < 0 || stop_event_.get() < 0)
		throw std::system_error(errno, std::generic_category(), "event-loop relay: epoll or eventfd");
	// Non-blocking, so that one wake-up accepts every waiting connection.
	if (::fcntl(listener_.get(), F_SETFL, O_NONBLOCK) != 0)
		throw std::system_error(errno, std::generic_category(), "event-loop relay: listener O_NONBLOCK");
	watch(epoll_.get(), listener_.get(), listener_key);
	watch(epoll_.get(), upstream_.get(), upstream_key);
	watch(epoll_.get(), stop_event_.get(), stop_key);
	thread_ = std::thread(&EventLoopRelay::loop, this);
}

EventLoopRelay::~EventLoopRelay() { stop(); }

void EventLoopRelay::stop() noexcept
{
	if (stopped_)
		return;
	stopped_ = true;
	const uint64_t one = 1;
	(void)::write(stop_event_.get(), &one, sizeof(one));
	thread_.join();
	clients_.clear();
	listener_.reset();
	upstream_.reset();
	std::error_code ignored;
	std::filesystem::remove(path_, ignored);
}

void EventLoopRelay::loop() noexcept
{
	::pthread_setname_np(::pthread_self(), "floor-loop");
	std::array<epoll_event, events_per_wait> events{};
	for (;;) {
		const int ready = ::epoll_wait(epoll_.get(), events.data(), events_per_wait, -1);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready < 0)
			return;
		for (int i = 0; i < ready; ++i) {
			const uint64_t key = events[i].data.u64;
			try {
				if (key == stop_key)
					return;
				if (key == listener_key)
					accept_clients();
				else if (key == upstream_key) {
					if (!answer())
						return; // the far end is gone: the bench's callers report it
				} else {
					const auto client = clients_.find(static_cast<Tag>(key));
					// One record per readiness: a busy client waits its
					// turn behind the others, as level-triggered epoll
					// reports it again.
					if (client != clients_.end() && !forward(client->first, client->second.get()))
						close_client(client->first);
				}
			} catch (...) {
				if (key < listener_key)
					close_client(static_cast<Tag>(key));
				else
					return;
			}
		}
	}
}

void EventLoopRelay::accept_clients() noexcept
{
	for (;;) {
		UniqueFd client(::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
		if (client.get() < 0)
			return; // EAGAIN: none left (or a failed accept the client sees)
		const Tag tag = next_tag_++;
		try {
			watch(epoll_.get(), client.get(), tag);
			clients_.emplace(tag, std::move(client));
		} catch (...) {
			// Not watched, so never served: closed here, the client sees it.
		}
	}
}

bool EventLoopRelay::forward(Tag tag, int client)
{
	std::memcpy(record_.data(), &tag, sizeof(tag));
	const ssize_t size = ::recv(client, record_.data() + sizeof(tag), record_.size() - sizeof(tag), MSG_DONTWAIT);
	if (size < 0)
		return errno == EAGAIN || errno == EINTR;
	if (size == 0 || static_cast<size_t>(size) + sizeof(tag) >= floor_record_size)
		return false;
	// Blocking: each client has one call out, so the far end always has room.
	send_record(upstream_.get(), record_.data(), static_cast<size_t>(size) + sizeof(tag),
	            "event-loop relay send upstream");
	return true;
}

bool EventLoopRelay::answer()
{
	const ssize_t size = ::recv(upstream_.get(), record_.data(), record_.size(), MSG_DONTWAIT);
	if (size < 0)
		return errno == EAGAIN || errno == EINTR;
	if (size == 0)
		return false;
	if (static_cast<size_t>(size) < sizeof(Tag))
		return true;
	Tag tag;
	std::memcpy(&tag, record_.data(), sizeof(tag));
	const auto client = clients_.find(tag);
	// A client waits for its echo, so the send finds room.
	if (client != clients_.end() &&
	    ::send(client->second.get(), record_.data() + sizeof(tag), static_cast<size_t>(size) - sizeof(tag),
	           MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		close_client(tag);
	return true;
}

void EventLoopRelay::close_client(Tag tag) noexcept
{
	// Closing the descriptor takes it out of the epoll set.
	clients_.erase(tag);
}

} // namespace drpc::bench
