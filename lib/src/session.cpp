// SPDX-License-Identifier: Apache-2.0
// One client connection on the server side, with dispatch per the status
// rules of the wire protocol: every call gets exactly one response.
#include "session.hpp"

#include "server_log_limits.hpp"

#include <drpc/codec.hpp>
#include <drpc/error.hpp>
#include <drpc/log.hpp>

#include <sys/socket.h>
#include <sys/time.h>

namespace drpc::detail {
namespace {

void set_timeout(int fd, int option, std::chrono::milliseconds timeout) noexcept
{
	if (timeout.count() <= 0)
		return;
	const timeval value{static_cast<time_t>(timeout.count() / 1000),
	                    static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
	(void)::setsockopt(fd, SOL_SOCKET, option, &value, sizeof(value));
}

} // namespace

Session::Session(UniqueFd fd, PeerCredentials peer, SessionShared shared)
	: fd_(std::move(fd)),
	  shared_(shared),
	  peer_(peer),
	  description_("session (pid " + std::to_string(peer_.pid) + ", uid " + std::to_string(peer_.uid) + ")"),
	  budget_(shared.budget, peer.uid),
	  reader_(shared.max_message_bytes, &budget_),
	  response_(shared.max_message_bytes - codec::max_response_overhead, &budget_),
	  modules_(shared.registry)
{
	// Set once: a busy session pays nothing for them on its hot path.
	set_timeout(fd_.get(), SO_RCVTIMEO, shared_.park_after);
	set_timeout(fd_.get(), SO_SNDTIMEO, shared_.send_timeout);
	reader_.set_message_timeout(shared_.message_timeout);
}

void Session::stop() noexcept
{
	stopping_.store(true);
	::shutdown(fd_.get(), SHUT_RD);
}

bool Session::cut_unread_answer() noexcept
{
	const State state = state_.load();
	if (state == State::handling)
		return false;
	if (state == State::sending) {
		const uint64_t send = sends_started_.load();
		if (send == send_seen_by_cut_)
			::shutdown(fd_.get(), SHUT_RDWR);
		send_seen_by_cut_ = send;
	}
	return true;
}

Session::Outcome Session::run()
{
	for (;;) {
		switch (reader_.read(fd_.get())) {
		case framing::MessageReader::Result::message:
			if (!dispatch(reader_.message()))
				return Outcome::closed;
			break;
		case framing::MessageReader::Result::closed:
			if (!reader_.error().empty())
				log::warn(log_limits::peer_gone, "server", description_ + ": " + reader_.error());
			return Outcome::closed;
		case framing::MessageReader::Result::error:
			log_read_failure();
			return Outcome::closed;
		case framing::MessageReader::Result::timeout:
			// SO_RCVTIMEO: quiet for park_after.
			return stopping_.load() ? Outcome::closed : Outcome::parked;
		}
	}
}

void Session::log_read_failure()
{
	if (budget_.refused()) {
		count(shared_.counters.closed_over_budget);
		log::warn(log_limits::over_budget, "server",
		          description_ + ": closing: " + reader_.error() + ": " + budget_.refusal());
		budget_.clear_refusal();
		return;
	}
	if (reader_.timed_out()) {
		count(shared_.counters.closed_message_timeout);
		log::warn(log_limits::expired_sessions, "server",
		          description_ + ": closing: " + reader_.error() + "; raise limits.message_timeout_ms");
		return;
	}
	count(shared_.counters.closed_framing_error);
	log::warn(log_limits::framing_errors, "server",
	          description_ + ": closing on a framing error: " + log::untrusted(reader_.error(), 512));
}

std::optional<std::chrono::steady_clock::time_point> Session::prepare_to_park() noexcept
{
	reader_.release_memory();
	response_.release_memory();
	modules_.release();
	if (reader_.in_message())
		return shared_.message_timeout.count() > 0 ? std::optional(reader_.message_deadline()) : std::nullopt;
	if (shared_.idle_timeout.count() > 0)
		return std::chrono::steady_clock::now() + shared_.idle_timeout - shared_.park_after;
	return std::nullopt;
}

std::string Session::expiry_reason() const
{
	if (reader_.in_message())
		return "message not complete within " + std::to_string(shared_.message_timeout.count()) +
		       " ms (limits.message_timeout_ms); raise limits.message_timeout_ms";
	return "idle for " + std::to_string(shared_.idle_timeout.count()) +
	       " ms (limits.idle_timeout_ms); raise or clear limits.idle_timeout_ms";
}

bool Session::dispatch(std::span<const uint8_t> message)
{
	state_.store(State::handling, std::memory_order_relaxed);
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
		log::warn(log_limits::handler_threw, "server",
		          "module " + std::to_string(call->module) + " method " + std::to_string(call->method) +
		                  " threw: " + log::untrusted(e.what()));
		status = Status::FAILURE;
	} catch (...) {
		log::warn(log_limits::handler_threw, "server",
		          "module " + std::to_string(call->module) + " method " + std::to_string(call->method) +
		                  " threw a non-standard exception");
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
	sends_started_.store(sends_started_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
	state_.store(State::sending, std::memory_order_relaxed);
	// Whatever happens next, the session is reading (or closing) after this.
	struct Reading {
		std::atomic<State> &state;
		~Reading() { state.store(State::reading, std::memory_order_relaxed); }
	} reading{state_};
	if (budget_.refused()) {
		log::warn(log_limits::over_budget, "server",
		          description_ + ": answer to call " + std::to_string(sequence) +
		                  " refused its buffer: " + budget_.refusal());
		budget_.clear_refusal();
	}
	try {
		framing::send_message(fd_.get(), response_.encode(sequence, status, with_body));
		return true;
	} catch (const SystemError &e) {
		if (e.code() == EAGAIN || e.code() == EWOULDBLOCK) {
			count(shared_.counters.closed_send_timeout);
			log::warn(log_limits::send_timeouts, "server",
			          description_ + ": closing: the answer to call " + std::to_string(sequence) +
			                  " was not read within " + std::to_string(shared_.send_timeout.count()) +
			                  " ms (limits.send_timeout_ms); raise limits.send_timeout_ms if the client "
			                  "is only slow");
		} else if (e.code() != EPIPE && e.code() != ECONNRESET)
			log::warn(log_limits::send_errors, "server", description_ + ": " + e.what());
		return false;
	}
}

} // namespace drpc::detail
