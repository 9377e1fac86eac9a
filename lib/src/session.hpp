// SPDX-License-Identifier: Apache-2.0
/// @file session.hpp
/// One client connection on the server side: read a call, dispatch it to its
/// module inline, answer, repeat.
#pragma once

#include "response_buffer.hpp"
#include "unix_socket.hpp"

#include <drpc/framing.hpp>
#include <drpc/module.hpp>
#include <drpc/module_registry.hpp>

#include <atomic>
#include <string>

namespace drpc::detail {

/// What sessions share with their server.
struct SessionShared {
	ModuleRegistry &registry;
	std::atomic<uint64_t> &calls_served;
	size_t max_message_bytes;
};

class Session {
public:
	Session(UniqueFd fd, SessionShared shared);

	/// Serves calls until the peer closes, a framing error, or stop().
	void run();

	/// Makes run() return after the call in flight, if any, is answered.
	/// Safe from another thread.
	void stop() noexcept;

	[[nodiscard]] const std::string &description() const noexcept { return description_; }

private:
	/// Answers one message; false when the answer could not be sent.
	bool dispatch(std::span<const uint8_t> message);
	bool send(int64_t sequence, Status status, bool with_body);

	UniqueFd fd_;
	SessionShared shared_;
	PeerCredentials peer_;
	std::string description_;
	framing::MessageReader reader_;
	ResponseBuffer response_;
	ModuleRegistry::Reader modules_;
};

} // namespace drpc::detail
