// SPDX-License-Identifier: Apache-2.0
/// @file multiplexed_relay.hpp
/// A second reference shape for an isolated call, beside FloorServer's bare
/// relay: the relay keeps one blocking thread per client connection for the
/// way in, but sends every client's records over one shared connection to
/// the far end, tagged with the client they came from; one answer thread
/// reads that connection and writes each echo straight to its client. The
/// far end (a FloorServer) then serves the shared connection on one thread.
///
/// Why it is measured: with several connections, the per-connection relay
/// pays a wake-up per hop, four per call. Here the far end's one thread and
/// the relay's answer thread each take what queued while they were busy
/// without sleeping in between, so under load a call costs about the
/// floor's two wake-ups plus the hops' system calls. It is what a redesign
/// of the host-to-worker path would aim at (one multiplexed link per worker,
/// answers written to the client by the link's reader, a worker that reads
/// the link on one thread and hands it over when a call runs long): this
/// figure says what that shape reaches on this machine, before any of it
/// is built.
///
/// Only one-record messages, whose tag still leaves them one short record
/// (multiplexed_relay_fits): a longer message would need its records kept
/// together on the shared connection, which this reference does not do.
#pragma once

#include <drpc/unique_fd.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

namespace drpc::bench {

/// True when the floor records `records` can go through a MultiplexedRelay.
[[nodiscard]] bool multiplexed_relay_fits(const std::vector<size_t> &records) noexcept;

class MultiplexedRelay {
public:
	/// Connects once to `upstream` (a FloorServer), binds `socket_path` and
	/// starts accepting; throws std::system_error.
	MultiplexedRelay(std::filesystem::path socket_path, const std::filesystem::path &upstream);
	/// Calls stop().
	~MultiplexedRelay();
	MultiplexedRelay(const MultiplexedRelay &) = delete;
	MultiplexedRelay &operator=(const MultiplexedRelay &) = delete;

	/// Closes the listener, the shared connection and every client, joins
	/// the threads and removes the socket file. Idempotent.
	void stop() noexcept;

private:
	void accept_loop() noexcept;
	/// A client's way in: its records, tagged, onto the shared connection.
	void forward(int fd) noexcept;
	/// The way back: each echo from the shared connection to its client.
	void answer_loop() noexcept;

	const std::filesystem::path path_;
	UniqueFd upstream_;
	UniqueFd listener_;
	std::thread acceptor_;
	std::thread answerer_;
	std::mutex mutex_;
	bool stopping_ = false;
	std::unordered_set<int> clients_; // guarded by mutex_; a tag names one of these
	std::vector<std::thread> sessions_;
};

} // namespace drpc::bench
