// SPDX-License-Identifier: Apache-2.0
// One client connection on the server side, with dispatch per the status
// rules of the wire protocol: every call gets exactly one response.
#include "session.hpp"

#include "answer_sender.hpp"
#include "server_log_limits.hpp"

#include <drpc/codec.hpp>
#include <drpc/error.hpp>
#include <drpc/log.hpp>

#include <sys/socket.h>
#include <sys/time.h>

namespace drpc::detail {
namespace {

// deferred_state_ bits.
/// An answer is out: not yet given, or not yet all sent.
constexpr uint32_t deferred_out_bit = 1;
/// The session's thread is still in start_call().
constexpr uint32_t deferred_starting_bit = 2;
/// answer() was called (cleared at the next start).
constexpr uint32_t deferred_answered_bit = 4;
/// The session's thread waits for the answer to be done.
constexpr uint32_t deferred_waiter_bit = 8;

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
	  read_budget_(shared.budget, peer.uid),
	  answer_budget_(shared.budget, peer.uid),
	  reader_(shared.max_message_bytes, &read_budget_),
	  response_(shared.max_message_bytes - codec::max_response_overhead, &answer_budget_),
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
	// The pool thread goes back as it came, however run() ends.
	struct Leave {
		ForwardingPolicy &policy;
		~Leave() { policy.leave(); }
	} leave{forwarding_policy_};
	return serve_calls();
}

Session::Outcome Session::serve_calls()
{
	for (;;) {
		switch (reader_.read(fd_.get())) {
		case framing::MessageReader::Result::message:
			if (!dispatch(reader_.message())) {
				wait_for_deferred();
				return Outcome::closed;
			}
			break;
		case framing::MessageReader::Result::closed:
			if (!reader_.error().empty())
				log::warn(log_limits::peer_gone, "server", description_ + ": " + reader_.error());
			wait_for_deferred();
			return Outcome::closed;
		case framing::MessageReader::Result::error:
			log_read_failure();
			wait_for_deferred();
			return Outcome::closed;
		case framing::MessageReader::Result::timeout:
			// SO_RCVTIMEO: quiet for park_after. A session whose answer
			// is out keeps its thread: the answer uses its buffers.
			if (stopping_.load()) {
				wait_for_deferred();
				return Outcome::closed;
			}
			if (deferred_answered())
				return Outcome::parked;
			break;
		}
	}
}

void Session::log_read_failure()
{
	if (read_budget_.refused()) {
		count(shared_.counters.closed_over_budget);
		log::warn(log_limits::over_budget, "server",
		          description_ + ": closing: " + reader_.error() + ": " + read_budget_.refusal());
		read_budget_.clear_refusal();
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
	// One call at a time: a client that sends before its answer is in waits.
	wait_for_deferred();
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
	if (lease.module().answers_later()) {
		start_deferred(std::move(lease), context, body);
		return true;
	}
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
	log_budget_refusal(sequence);
	try {
		framing::send_message(fd_.get(), response_.encode(sequence, status, with_body));
		return true;
	} catch (const SystemError &e) {
		log_send_failure(sequence, e);
		return false;
	}
}

void Session::log_budget_refusal(int64_t sequence)
{
	if (!answer_budget_.refused())
		return;
	log::warn(log_limits::over_budget, "server",
	          description_ + ": answer to call " + std::to_string(sequence) +
	                  " refused its buffer: " + answer_budget_.refusal());
	answer_budget_.clear_refusal();
}

void Session::log_send_failure(int64_t sequence, const SystemError &error)
{
	if (error.code() == EAGAIN || error.code() == EWOULDBLOCK || error.code() == ETIMEDOUT) {
		count(shared_.counters.closed_send_timeout);
		log::warn(log_limits::send_timeouts, "server",
		          description_ + ": closing: the answer to call " + std::to_string(sequence) +
		                  " was not read within " + std::to_string(shared_.send_timeout.count()) +
		                  " ms (limits.send_timeout_ms); raise limits.send_timeout_ms if the client "
		                  "is only slow");
	} else if (error.code() != EPIPE && error.code() != ECONNRESET)
		log::warn(log_limits::send_errors, "server", description_ + ": " + error.what());
}

bool Session::deferred_out() const noexcept { return (deferred_state_.load() & deferred_out_bit) != 0; }

void Session::wait_for_deferred() noexcept
{
	// A session that never handed a call over has nothing to wait for.
	if (!deferred_used_)
		return;
	// Under the mutex even when nothing is out: the answerer holds it until
	// its very last touch, so once this returns the session may end.
	std::unique_lock lock(deferred_mutex_);
	if (!deferred_out())
		return;
	deferred_state_.fetch_or(deferred_waiter_bit);
	deferred_done_.wait(lock, [this] { return !deferred_out(); });
}

bool Session::deferred_answered() noexcept
{
	if (!deferred_used_)
		return true;
	const std::lock_guard lock(deferred_mutex_);
	return !deferred_out();
}

void Session::start_deferred(ModuleRegistry::Lease lease, const CallContext &context, std::span<const uint8_t> body)
{
	Module &module = lease.module();
	response_.clear();
	deferred_sequence_ = context.sequence;
	deferred_lease_ = std::move(lease);
	deferred_used_ = true;
	forwarding_policy_.enter();
	deferred_state_.store(deferred_out_bit | deferred_starting_bit);
	DeferredAnswer answer(this);
	try {
		module.start_call(context, body, answer);
	} catch (...) {
		// Nothing may leave here with the answer perhaps out: the session
		// must wait for it before it ends.
		try {
			try {
				throw;
			} catch (const std::exception &e) {
				log::warn(log_limits::handler_threw, "server",
				          "module " + std::to_string(context.module) + " method " +
				                  std::to_string(context.method) +
				                  " threw: " + log::untrusted(e.what()));
			}
		} catch (...) {
			// A non-standard exception, or no memory for the log line.
		}
	}
	answer.answer(Status::FAILURE); // nothing when the module took it
	// Whoever is last of this thread and answer() lets the lease go: the
	// module must stay while start_call() runs, and a reload must not wait
	// for the answer to be sent.
	if ((deferred_state_.fetch_and(~deferred_starting_bit) & deferred_answered_bit) != 0)
		deferred_lease_ = {};
}

void Session::answer_deferred(Status status) noexcept
{
	deferred_lease_.record(status);
	if ((deferred_state_.fetch_or(deferred_answered_bit) & deferred_starting_bit) == 0)
		deferred_lease_ = {};
	shared_.calls_served.fetch_add(1, std::memory_order_relaxed);
	sends_started_.store(sends_started_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
	state_.store(State::sending, std::memory_order_relaxed);
	try {
		log_budget_refusal(deferred_sequence_);
		deferred_bytes_ = response_.encode(deferred_sequence_, status, status == Status::SUCCESS);
	} catch (const std::exception &e) {
		log::warn(log_limits::send_errors, "server",
		          description_ + ": closing: cannot encode the answer to call " +
		                  std::to_string(deferred_sequence_) + ": " + e.what());
		::shutdown(fd_.get(), SHUT_RDWR);
		answer_done();
		return;
	}
	deferred_next_chunk_ = 0;
	if (send_more_of_answer()) {
		answer_done();
		return;
	}
	shared_.sender.add(*this, shared_.send_timeout.count() > 0
	                                  ? std::chrono::steady_clock::now() + shared_.send_timeout
	                                  : std::chrono::steady_clock::time_point::max());
}

bool Session::send_more_of_answer() noexcept
{
	try {
		return framing::send_message_nonblocking(fd_.get(), deferred_bytes_, deferred_next_chunk_);
	} catch (const SystemError &e) {
		log_send_failure(deferred_sequence_, e);
	} catch (const std::exception &e) {
		log::warn(log_limits::send_errors, "server", description_ + ": " + e.what());
	}
	// The session's thread sees it closed, as after a failed send of its own.
	::shutdown(fd_.get(), SHUT_RDWR);
	return true;
}

void Session::answer_timed_out() noexcept
{
	try {
		log_send_failure(deferred_sequence_, SystemError("send", ETIMEDOUT));
	} catch (...) {
		// The log line is lost; the session still closes.
	}
	::shutdown(fd_.get(), SHUT_RDWR);
	answer_done();
}

void Session::answer_done() noexcept
{
	deferred_bytes_ = {};
	state_.store(State::reading, std::memory_order_relaxed);
	// The last touch of the session: its thread may go on, and the session
	// end, once the mutex is let go (which POSIX allows of a mutex).
	const std::lock_guard lock(deferred_mutex_);
	if ((deferred_state_.fetch_and(~(deferred_out_bit | deferred_waiter_bit)) & deferred_waiter_bit) != 0)
		deferred_done_.notify_all();
}

} // namespace drpc::detail
