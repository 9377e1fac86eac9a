// SPDX-License-Identifier: Apache-2.0
// The multiplexed relay reference (see multiplexed_relay.hpp for why).
#include "multiplexed_relay.hpp"

#include "floor_server.hpp"
#include "seqpacket.hpp"

#include <array>
#include <cstring>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

namespace drpc::bench {
namespace {

/// In front of each record on the shared connection: the client's descriptor.
using Tag = int32_t;

} // namespace

bool multiplexed_relay_fits(const std::vector<size_t> &records) noexcept
{
	return records.size() == 1 && records.front() + sizeof(Tag) < floor_record_size;
}

MultiplexedRelay::MultiplexedRelay(std::filesystem::path socket_path, const std::filesystem::path &upstream)
	: path_(std::move(socket_path)), upstream_(connect_seqpacket(upstream)), listener_(listen_seqpacket(path_))
{
	answerer_ = std::thread(&MultiplexedRelay::answer_loop, this);
	acceptor_ = std::thread(&MultiplexedRelay::accept_loop, this);
}

MultiplexedRelay::~MultiplexedRelay() { stop(); }

void MultiplexedRelay::stop() noexcept
{
	{
		const std::lock_guard lock(mutex_);
		if (stopping_)
			return;
		stopping_ = true;
		// As FloorServer::stop(): shutdown() wakes every blocked thread and
		// each closes its own descriptor.
		::shutdown(listener_.get(), SHUT_RDWR);
		::shutdown(upstream_.get(), SHUT_RDWR);
		for (const int fd : clients_)
			::shutdown(fd, SHUT_RDWR);
	}
	acceptor_.join();
	answerer_.join();
	for (std::thread &session : sessions_)
		session.join();
	listener_.reset();
	upstream_.reset();
	std::error_code ignored;
	std::filesystem::remove(path_, ignored);
}

void MultiplexedRelay::accept_loop() noexcept
{
	accept_connections(listener_.get(), mutex_, stopping_, clients_,
	                   [this](int fd) { sessions_.emplace_back(&MultiplexedRelay::forward, this, fd); });
}

void MultiplexedRelay::forward(int fd) noexcept
{
	::pthread_setname_np(::pthread_self(), "floor-mux-in");
	std::array<uint8_t, floor_record_size> record{};
	const Tag tag = fd;
	std::memcpy(record.data(), &tag, sizeof(tag));
	try {
		for (;;) {
			const size_t size = receive_record(fd, record.data() + sizeof(tag), record.size() - sizeof(tag),
			                                   "multiplexed relay receive");
			// Closed, or a record too long to stay one short record tagged.
			if (size == 0 || size + sizeof(tag) >= floor_record_size)
				break;
			send_record(upstream_.get(), record.data(), size + sizeof(tag),
			            "multiplexed relay send upstream");
		}
	} catch (...) {
		// A closed or failed connection ends only this client.
	}
	const std::lock_guard lock(mutex_);
	clients_.erase(fd);
	::close(fd);
}

void MultiplexedRelay::answer_loop() noexcept
{
	::pthread_setname_np(::pthread_self(), "floor-mux-out");
	std::array<uint8_t, floor_record_size> record{};
	try {
		for (;;) {
			const size_t size = receive_record(upstream_.get(), record.data(), record.size(),
			                                   "multiplexed relay receive upstream");
			if (size == 0)
				return;
			if (size < sizeof(Tag))
				continue;
			Tag tag;
			std::memcpy(&tag, record.data(), sizeof(tag));
			// The lock keeps a closed client's descriptor from being reused
			// under the answer; a client waits for its echo, so the send
			// finds room and never blocks while holding it.
			const std::lock_guard lock(mutex_);
			if (clients_.contains(tag) && ::send(tag, record.data() + sizeof(tag), size - sizeof(tag),
			                                     MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
				::shutdown(tag, SHUT_RDWR);
		}
	} catch (...) {
		// The far end is gone: the clients' calls go unanswered, which the
		// bench's callers report.
	}
}

} // namespace drpc::bench
