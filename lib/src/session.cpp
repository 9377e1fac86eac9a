// SPDX-License-Identifier: Apache-2.0
// One client connection on the server side, with dispatch per the status
// rules of the wire protocol: every call gets exactly one response.
#include "session.hpp"

#include <drpc/codec.hpp>
#include <drpc/error.hpp>
#include <drpc/log.hpp>

#include <sys/socket.h>

namespace drpc::detail {

Session::Session(UniqueFd fd, SessionShared shared)
	: fd_(std::move(fd)),
	  shared_(shared),
	  peer_(peer_credentials(fd_.get())),
	  description_("session (pid " + std::to_string(peer_.pid) + ", uid " + std::to_string(peer_.uid) + ")"),
	  reader_(shared.max_message_bytes),
	  response_(shared.max_message_bytes - codec::max_response_overhead),
	  modules_(shared.registry)
{
}

void Session::stop() noexcept { ::shutdown(fd_.get(), SHUT_RD); }

void Session::run()
{
	for (;;) {
		switch (reader_.read(fd_.get())) {
		case framing::MessageReader::Result::message:
			if (!dispatch(reader_.message()))
				return;
			break;
		case framing::MessageReader::Result::closed:
			if (!reader_.error().empty())
				log::warn("server", description_ + ": " + reader_.error());
			return;
		case framing::MessageReader::Result::error:
			log::warn("server", description_ + ": closing on a framing error: " + reader_.error());
			return;
		case framing::MessageReader::Result::timeout:
			return; // not used without a deadline
		}
	}
}

bool Session::dispatch(std::span<const uint8_t> message)
{
	const auto call =
		codec::decode_call(std::string_view(reinterpret_cast<const char *>(message.data()), message.size()));
	if (!call)
		return send(-1, Status::FAILED_UNMARSHAL_CALL, false);

	ModuleRegistry::Lease lease = modules_.acquire(call->module);
	if (!lease)
		return send(call->sequence, Status::UNKNOWN_MODULE, false);

	const CallContext context{call->module, call->method, call->sequence, peer_};
	const std::span body(reinterpret_cast<const uint8_t *>(call->body.data()), call->body.size());
	Status status;
	response_.clear();
	try {
		status = lease.module().handle_call(context, body, response_);
	} catch (const std::exception &e) {
		log::warn("server", "module " + std::to_string(call->module) + " method " +
		                            std::to_string(call->method) + " threw: " + e.what());
		status = Status::FAILURE;
	} catch (...) {
		log::warn("server", "module " + std::to_string(call->module) + " method " +
		                            std::to_string(call->method) + " threw a non-standard exception");
		status = Status::FAILURE;
	}
	lease.record(status);
	// Let a reload drain before the answer is on its way.
	lease = {};
	shared_.calls_served.fetch_add(1, std::memory_order_relaxed);
	return send(call->sequence, status, status == Status::SUCCESS);
}

bool Session::send(int64_t sequence, Status status, bool with_body)
{
	try {
		framing::send_message(fd_.get(), response_.encode(sequence, status, with_body));
		return true;
	} catch (const SystemError &e) {
		if (e.code() != EPIPE && e.code() != ECONNRESET)
			log::warn("server", description_ + ": " + e.what());
		return false;
	}
}

} // namespace drpc::detail
