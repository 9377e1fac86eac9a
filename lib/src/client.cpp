// SPDX-License-Identifier: Apache-2.0
// The client connection: numbered calls, one at a time, with an optional
// deadline; any failure closes the connection so it never reads a stale answer.
#include "unix_socket.hpp"

#include <drpc/client.hpp>
#include <drpc/codec.hpp>
#include <drpc/error.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdint>

namespace drpc {

ClientConnection::ClientConnection(std::filesystem::path socket_path, ClientOptions options)
	: path_(std::move(socket_path)), options_(options), reader_(options.max_message_bytes)
{
}

ClientConnection::~ClientConnection() { close_locked(); }

void ClientConnection::connect()
{
	const std::lock_guard lock(mutex_);
	if (fd_ >= 0)
		return;
	detail::UniqueFd fd = detail::seqpacket_socket(context());
	if (const int error = detail::connect_to(fd.get(), path_); error != 0)
		throw SystemError(context() + ": connect", error);
	if (options_.require_server_uid) {
		// Checked before anything is sent, so nothing reaches a squatter.
		const PeerCredentials server = detail::peer_credentials(fd.get());
		if (server.uid != *options_.require_server_uid || server.pid == 0)
			throw AccessError(context() + ": the server (pid " + std::to_string(server.pid) +
			                  ") runs as uid " + std::to_string(server.uid) + ", not the required uid " +
			                  std::to_string(*options_.require_server_uid) + "; connection closed");
	}
	fd_ = fd.release();
	sequence_ = 0;
	reader_.reset();
}

bool ClientConnection::is_connected() const
{
	const std::lock_guard lock(mutex_);
	return fd_ >= 0;
}

void ClientConnection::close()
{
	const std::lock_guard lock(mutex_);
	close_locked();
}

void ClientConnection::close_locked() noexcept
{
	detail::UniqueFd(std::exchange(fd_, -1)).reset();
	reader_.reset();
}

std::string ClientConnection::context() const { return "drpc client " + path_.string(); }

Response ClientConnection::send_msg(const Call &call) { return send_msg(call, options_.call_timeout); }

Response ClientConnection::send_msg(const Call &call, std::chrono::milliseconds timeout)
{
	const std::lock_guard lock(mutex_);
	const codec::ResponseView view = exchange({call.module(), call.method(), 0, call.body()}, {}, timeout);
	Response response;
	response.set_sequence(view.sequence);
	response.set_status(view.status);
	if (!view.body.empty())
		response.set_body(view.body.data(), view.body.size());
	return response;
}

void ClientConnection::send_msg(const codec::CallView &call, std::chrono::milliseconds timeout,
                                const std::function<void(const codec::ResponseView &)> &on_response)
{
	const std::lock_guard lock(mutex_);
	on_response(exchange(call, {}, timeout));
}

void ClientConnection::send_msg(const codec::CallView &call, std::span<const uint8_t> body_prefix,
                                std::chrono::milliseconds timeout,
                                const std::function<void(const codec::ResponseView &)> &on_response)
{
	if (body_prefix.size() > max_body_prefix)
		throw Error(context() + ": a body prefix of " + std::to_string(body_prefix.size()) +
		            " bytes is over max_body_prefix");
	const std::lock_guard lock(mutex_);
	on_response(exchange(call, body_prefix, timeout));
}

codec::ResponseView ClientConnection::exchange(const codec::CallView &call, std::span<const uint8_t> body_prefix,
                                               std::chrono::milliseconds timeout)
{
	if (fd_ < 0)
		throw SystemError(context() + ": send", ENOTCONN);

	const int64_t sequence = ++sequence_;
	codec::CallView numbered = call;
	numbered.sequence = sequence;
	// The fields go from a small buffer, the body from where it lies.
	uint8_t head[codec::max_call_overhead + max_body_prefix];
	uint8_t *head_end = codec::encode_call_head(numbered, body_prefix.size() + call.body.size(), head);
	if (!body_prefix.empty())
		head_end = std::copy(body_prefix.begin(), body_prefix.end(), head_end);
	// One deadline covers sending and receiving.
	const auto start = std::chrono::steady_clock::now();
	const int timeout_ms =
		timeout.count() > 0 ? static_cast<int>(std::min<int64_t>(timeout.count(), INT32_MAX)) : -1;
	try {
		framing::send_message(fd_, std::span<const uint8_t>(head, head_end),
		                      std::span(reinterpret_cast<const uint8_t *>(call.body.data()), call.body.size()),
		                      timeout_ms);
	} catch (const SystemError &e) {
		close_locked();
		if (e.code() == ETIMEDOUT)
			throw TimeoutError(context() + ": call " + std::to_string(sequence) +
			                   " could not be sent within " + std::to_string(timeout.count()) +
			                   " ms; connection closed");
		throw SystemError(context(), e);
	}
	int receive_ms = timeout_ms;
	if (timeout_ms >= 0) {
		const auto spent =
			std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
		receive_ms = static_cast<int>(std::max<int64_t>(0, timeout_ms - spent.count()));
	}
	switch (reader_.read(fd_, receive_ms)) {
	case framing::MessageReader::Result::message:
		break;
	case framing::MessageReader::Result::timeout:
		close_locked();
		throw TimeoutError(context() + ": no response to call " + std::to_string(sequence) + " within " +
		                   std::to_string(timeout.count()) + " ms; connection closed");
	case framing::MessageReader::Result::closed: {
		const std::string why = reader_.error().empty() ? "server closed the connection" : reader_.error();
		close_locked();
		throw SystemError(context() + ": receive: " + why, ECONNRESET);
	}
	case framing::MessageReader::Result::error: {
		const std::string why = reader_.error();
		close_locked();
		throw ProtocolError(context() + ": receive: " + why);
	}
	}

	const auto message = reader_.message();
	const auto response = codec::decode_response(
		std::string_view(reinterpret_cast<const char *>(message.data()), message.size()));
	if (!response) {
		close_locked();
		throw ProtocolError(context() + ": the response to call " + std::to_string(sequence) +
		                    " does not decode as a drpc.Response");
	}
	if (response->sequence != sequence) {
		close_locked();
		throw ProtocolError(context() + ": response sequence " + std::to_string(response->sequence) +
		                    " does not match call sequence " + std::to_string(sequence));
	}
	return *response;
}

} // namespace drpc
