// SPDX-License-Identifier: Apache-2.0
// The floor echo server and client (see floor_server.hpp for the one
// convention they share).
#include "floor_server.hpp"

#include <algorithm>
#include <cerrno>
#include <pthread.h>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <system_error>
#include <unistd.h>

namespace drpc::bench {

std::vector<size_t> floor_records(size_t message_bytes)
{
	std::vector<size_t> records;
	const uint32_t chunks = framing::chunk_count(message_bytes);
	size_t left = message_bytes;
	for (uint32_t i = 0; i < chunks; ++i) {
		const size_t data = std::min(left, framing::max_chunk_data);
		records.push_back(framing::header_size + data);
		left -= data;
	}
	if (records.back() == floor_record_size)
		records.push_back(1);
	return records;
}

FloorServer::FloorServer(std::filesystem::path socket_path, std::filesystem::path upstream)
	: path_(std::move(socket_path)), upstream_(std::move(upstream)), listener_(listen_seqpacket(path_))
{
	acceptor_ = std::thread(&FloorServer::accept_loop, this);
}

FloorServer::~FloorServer() { stop(); }

void FloorServer::stop() noexcept
{
	{
		const std::lock_guard lock(mutex_);
		if (stopping_)
			return;
		stopping_ = true;
		// shutdown() wakes the blocked accept() and recv()s; each thread then
		// closes its own descriptor, so none is closed while in use.
		::shutdown(listener_.get(), SHUT_RDWR);
		for (const int fd : open_fds_)
			::shutdown(fd, SHUT_RDWR);
	}
	acceptor_.join();
	for (std::thread &session : sessions_)
		session.join();
	listener_.reset();
	std::error_code ignored;
	std::filesystem::remove(path_, ignored);
}

void FloorServer::accept_loop() noexcept
{
	accept_connections(listener_.get(), mutex_, stopping_, open_fds_,
	                   [this](int fd) { sessions_.emplace_back(&FloorServer::serve, this, fd); });
}

namespace {

/// Receives records into `message` (grown as needed) until a short one ends
/// the message; its size. Throws when the peer closes.
size_t receive_message(int fd, std::vector<uint8_t> &message, const char *what)
{
	size_t used = 0;
	size_t record;
	do {
		if (message.size() < used + floor_record_size)
			message.resize(std::max(2 * message.size(), used + floor_record_size));
		record = receive_record(fd, message.data() + used, floor_record_size, what);
		if (record == 0)
			throw std::runtime_error("closed");
		used += record;
	} while (record == floor_record_size);
	return used;
}

void send_message(int fd, const std::vector<uint8_t> &message, size_t used, const char *what)
{
	for (size_t offset = 0; offset < used; offset += floor_record_size)
		send_record(fd, message.data() + offset, std::min(floor_record_size, used - offset), what);
}

} // namespace

void FloorServer::serve(int fd) noexcept
{
	::pthread_setname_np(::pthread_self(), upstream_.empty() ? "floor-server" : "floor-relay");
	int upstream = -1;
	try {
		if (!upstream_.empty()) {
			UniqueFd connected = connect_seqpacket(upstream_);
			// Watched by stop() as the client's is, so that a relay thread
			// waiting on the far end wakes too.
			const std::lock_guard lock(mutex_);
			if (stopping_)
				throw std::runtime_error("stopping");
			open_fds_.insert(connected.get());
			upstream = connected.release();
		}
		std::vector<uint8_t> message(floor_record_size);
		for (;;) {
			size_t used = receive_message(fd, message, "floor server receive");
			if (upstream >= 0) {
				send_message(upstream, message, used, "floor relay send upstream");
				used = receive_message(upstream, message, "floor relay receive upstream");
			}
			send_message(fd, message, used, "floor server send");
		}
	} catch (...) {
		// A closed or failed connection ends only this session.
	}
	const std::lock_guard lock(mutex_);
	for (const int open : {fd, upstream}) {
		if (open >= 0) {
			open_fds_.erase(open);
			::close(open);
		}
	}
}

FloorCaller::FloorCaller(const std::filesystem::path &socket_path, std::vector<size_t> records)
	: fd_(connect_seqpacket(socket_path)), records_(std::move(records))
{
	size_t total = 0;
	for (const size_t record : records_)
		total += record;
	out_.assign(total, 'x');
	// Room for one record past the echo expected, so that a longer one is
	// caught rather than overflowing.
	in_.assign(total + floor_record_size, 0);
}

void FloorCaller::call()
{
	size_t offset = 0;
	for (const size_t record : records_) {
		send_record(fd_.get(), out_.data() + offset, record, "floor client send");
		offset += record;
	}
	const size_t sent = offset;
	offset = 0;
	size_t record;
	do {
		if (offset > sent)
			throw std::runtime_error("floor client: echo longer than the " + std::to_string(sent) +
			                         " bytes sent");
		record = receive_record(fd_.get(), in_.data() + offset, floor_record_size, "floor client receive");
		if (record == 0)
			throw std::runtime_error("floor client: the echo server closed the connection");
		offset += record;
	} while (record == floor_record_size);
	if (offset != sent)
		throw std::runtime_error("floor client: echoed " + std::to_string(offset) + " bytes of " +
		                         std::to_string(sent));
}

} // namespace drpc::bench
