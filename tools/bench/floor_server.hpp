// SPDX-License-Identifier: Apache-2.0
/// @file floor_server.hpp
/// The "floor": a bare SOCK_SEQPACKET echo server and its client, the fastest
/// a round trip of the same records can be on this machine, against which
/// dRPC's figures are compared.
///
/// The floor knows nothing of dRPC's framing or protobuf. Its only convention
/// is how a message ends, which it needs for messages of several records
/// (echoing each record as it arrives would deadlock once both socket buffers
/// fill): a record shorter than floor_record_size ends a message, and the
/// server echoes the message's records once it has them all, as a dRPC
/// server answers once it has the whole call.
#pragma once

#include "load_generator.hpp"
#include "seqpacket.hpp"

#include <drpc/framing.hpp>

#include <filesystem>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

namespace drpc::bench {

inline constexpr size_t floor_record_size = framing::max_record_size;

/// The records the floor moves for a dRPC message of `message_bytes`: one per
/// dRPC chunk, header included, plus a 1-byte terminator in the rare case
/// that the last chunk is full.
[[nodiscard]] std::vector<size_t> floor_records(size_t message_bytes);

/// Echo server, one thread per connection, blocking receive and send.
///
/// With an `upstream`, a bare relay instead: each connection gets one of its
/// own to `upstream` (another floor server, in another process), and each
/// message goes there and its echo comes back, on the connection's one
/// blocking thread. That is the shape of a call to an isolated module
/// (client, drpc-host, worker) over plain sockets with nothing of dRPC in
/// it: a reference for what the shape itself costs on this machine.
class FloorServer {
public:
	/// Binds `socket_path` and starts accepting; throws std::system_error.
	explicit FloorServer(std::filesystem::path socket_path, std::filesystem::path upstream = {});
	/// Calls stop().
	~FloorServer();
	FloorServer(const FloorServer &) = delete;
	FloorServer &operator=(const FloorServer &) = delete;

	/// Closes the listener and every connection, joins the threads and
	/// removes the socket file. Idempotent.
	void stop() noexcept;

	[[nodiscard]] const std::filesystem::path &socket_path() const noexcept { return path_; }

private:
	void accept_loop() noexcept;
	void serve(int fd) noexcept;

	const std::filesystem::path path_;
	const std::filesystem::path upstream_;
	UniqueFd listener_;
	std::thread acceptor_;
	std::mutex mutex_;
	bool stopping_ = false;
	std::unordered_set<int> open_fds_; // clients' and, relaying, upstream's
	std::vector<std::thread> sessions_;
};

/// One floor connection: sends the records of a call and receives their echo.
class FloorCaller final : public Caller {
public:
	/// Connects; throws std::system_error.
	FloorCaller(const std::filesystem::path &socket_path, std::vector<size_t> records);
	void call() override;

private:
	UniqueFd fd_;
	std::vector<size_t> records_;
	std::vector<uint8_t> out_;
	std::vector<uint8_t> in_;
};

} // namespace drpc::bench
