// SPDX-License-Identifier: Apache-2.0
/// @file event_loop_relay.hpp
/// A third reference shape for an isolated call, beside the bare and the
/// multiplexed relays (floor_server.hpp, multiplexed_relay.hpp): the relay
/// is one thread with an epoll set over the listener, every client and the
/// one shared connection to the far end. It takes a record from each client
/// that has one, tagged with the client, onto the shared connection, and
/// writes each echo from there to its client, all without a thread per
/// client. The far end (a FloorServer) serves the shared connection on one
/// thread, as for the multiplexed relay.
///
/// Why it is measured: the multiplexed relay (the host's present shape) runs
/// a call through four threads, the client's, its session's, the far end's
/// and the answer reader's, where the floor runs it through two; at 8
/// connections on 2 CPUs each extra thread a call passes is context switches
/// the CPUs pay for (README, "Speed"). Here the relay's side of every call
/// is one thread that, while calls keep coming, never sleeps: a call passes
/// three threads, and the relay's switches are shared by all its clients.
/// It is the shape a host that served the connections of isolated modules
/// from an event loop would have: this figure says what that shape reaches
/// on this machine before any of it is built.
///
/// One-record messages only, as the multiplexed relay (its tag is as long:
/// multiplexed_relay_fits).
#pragma once

#include <drpc/unique_fd.hpp>

#include <cstdint>
#include <filesystem>
#include <thread>
#include <unordered_map>
#include <vector>

namespace drpc::bench {

class EventLoopRelay {
public:
	/// Connects once to `upstream` (a FloorServer), binds `socket_path` and
	/// starts its thread; throws std::system_error.
	EventLoopRelay(std::filesystem::path socket_path, const std::filesystem::path &upstream);
	/// Calls stop().
	~EventLoopRelay();
	EventLoopRelay(const EventLoopRelay &) = delete;
	EventLoopRelay &operator=(const EventLoopRelay &) = delete;

	/// Ends the loop, closes every connection and removes the socket file.
	/// Idempotent; not from the loop's thread.
	void stop() noexcept;

private:
	void loop() noexcept;
	void accept_clients() noexcept;
	/// One record from `client` onto the shared connection; false when the
	/// client is done (closed, failed, or sent a record too long to tag).
	bool forward(uint32_t tag, int client);
	/// One echo from the shared connection to its client; false when the
	/// far end is gone.
	bool answer();
	void close_client(uint32_t tag) noexcept;

	const std::filesystem::path path_;
	UniqueFd upstream_;
	UniqueFd listener_;
	UniqueFd epoll_;
	UniqueFd stop_event_;
	std::thread thread_;
	bool stopped_ = false;
	// The loop thread's own. Tags are never reused, so an echo to a client
	// that has gone cannot reach a newer one given the same descriptor.
	uint32_t next_tag_ = 0;
	std::unordered_map<uint32_t, UniqueFd> clients_;
	/// The loop thread's one record buffer, both ways: a record is in it
	/// only between its receive and its send.
	std::vector<uint8_t> record_;
};

} // namespace drpc::bench
