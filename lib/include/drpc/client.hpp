// SPDX-License-Identifier: Apache-2.0
/// @file drpc/client.hpp
/// A dRPC client connection (DAOS's Go drpc.ClientConnection in C++).
#pragma once

#include <drpc/codec.hpp>
#include <drpc/framing.hpp>
#include <drpc/message.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <sys/types.h>

namespace drpc {

struct ClientOptions {
	/// Deadline of each send_msg(); zero waits forever. A call that times
	/// out closes the connection (its answer may still arrive otherwise).
	std::chrono::milliseconds call_timeout{0};
	/// Largest response accepted; larger ones are refused unread.
	size_t max_message_bytes = framing::default_max_message_bytes;
	/// When set, connect() checks the server's uid (SO_PEERCRED) and refuses
	/// any other: a socket path someone else bound is never talked to.
	std::optional<uid_t> require_server_uid{};
};

/// One connection to a dRPC server. Safe to share between threads: calls on
/// one connection are sequential by protocol, so concurrent send_msg() calls
/// take turns. Errors are thrown as drpc::Error subclasses whose text names
/// the socket path and the step that failed.
class ClientConnection {
public:
	explicit ClientConnection(std::filesystem::path socket_path, ClientOptions options = {});
	~ClientConnection();
	ClientConnection(const ClientConnection &) = delete;
	ClientConnection &operator=(const ClientConnection &) = delete;

	/// Connects; a no-op when connected. Resets the sequence to 1.
	/// Throws SystemError; AccessError (naming both uids) when the server
	/// is not `require_server_uid`.
	void connect();
	[[nodiscard]] bool is_connected() const;

	/// Sends `call` with the next sequence number of this connection (1, 2,
	/// 3, ... as DAOS's Go client; the sequence in `call` is ignored) and
	/// returns the decoded response. A
	/// non-SUCCESS status is not an error here: the caller checks it.
	/// Throws SystemError (not connected, send/receive failed), TimeoutError,
	/// ProtocolError (framing or an undecodable/mismatched response); after
	/// any of them the connection is closed.
	Response send_msg(const Call &call);
	/// The same with a deadline for this call only (zero: none).
	Response send_msg(const Call &call, std::chrono::milliseconds timeout);

	/// The zero-copy form for large or hot calls: the body is sent from
	/// where `call.body` points, and `on_response` sees the decoded
	/// response with its body pointing into the connection's receive buffer,
	/// valid only during the callback (the connection stays held). The
	/// sequence in `call` is ignored. Throws as send_msg().
	void send_msg(const codec::CallView &call, std::chrono::milliseconds timeout,
	              const std::function<void(const codec::ResponseView &)> &on_response);

	/// The same with `body_prefix` (at most max_body_prefix bytes) sent in
	/// front of the body as part of it, gathered rather than copied: how a
	/// relay adds a small header to a large body it does not own.
	void send_msg(const codec::CallView &call, std::span<const uint8_t> body_prefix,
	              std::chrono::milliseconds timeout,
	              const std::function<void(const codec::ResponseView &)> &on_response);
	static constexpr size_t max_body_prefix = 64;

	/// Closes the connection; a no-op when closed.
	void close();

	[[nodiscard]] const std::filesystem::path &socket_path() const noexcept { return path_; }

private:
	void close_locked() noexcept;
	/// Sends and receives one call; the connection's mutex must be held.
	[[nodiscard]] codec::ResponseView exchange(const codec::CallView &call, std::span<const uint8_t> body_prefix,
	                                           std::chrono::milliseconds timeout);
	[[nodiscard]] std::string context() const;

	const std::filesystem::path path_;
	const ClientOptions options_;
	mutable std::mutex mutex_;
	int fd_ = -1;
	int64_t sequence_ = 0;
	framing::MessageReader reader_;
};

} // namespace drpc
