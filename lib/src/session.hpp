// SPDX-License-Identifier: Apache-2.0
/// @file session.hpp
/// One client connection on the server side: read a call, dispatch it to its
/// module inline, answer, repeat; when the client goes quiet, give the thread
/// back (the server parks the session until its next record).
#pragma once

#include "forwarding_policy.hpp"
#include "inflight_budget.hpp"
#include "response_buffer.hpp"
#include "server_counters.hpp"
#include "unix_socket.hpp"

#include <drpc/deferred_answer.hpp>
#include <drpc/error.hpp>
#include <drpc/framing.hpp>
#include <drpc/module.hpp>
#include <drpc/module_registry.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

namespace drpc::detail {

class AnswerSender;

/// What sessions share with their server.
struct SessionShared {
	ModuleRegistry &registry;
	std::atomic<uint64_t> &calls_served;
	ServerCounters &counters;
	InflightBudget &budget;
	AnswerSender &sender;
	size_t max_message_bytes;
	/// A session with nothing to read for this long gives its thread back
	/// (zero: never; the thread waits).
	std::chrono::milliseconds park_after{0};
	std::chrono::milliseconds message_timeout{0};
	std::chrono::milliseconds send_timeout{0};
	std::chrono::milliseconds idle_timeout{0};
};

class Session {
public:
	/// Sets the socket's receive and send timeouts. Throws std::bad_alloc.
	Session(UniqueFd fd, PeerCredentials peer, SessionShared shared);

	enum class Outcome {
		closed, ///< the peer closed, an error, or stop(): the session is over
		parked, ///< nothing to read for a while: park() it
	};
	/// Serves calls until one of the outcomes. A session that hands calls
	/// over runs its thread SCHED_BATCH meanwhile (forwarding_policy.hpp).
	Outcome run();

	/// Releases the buffers of a session about to be parked and says until
	/// when it may stay parked (nothing: no deadline).
	[[nodiscard]] std::optional<std::chrono::steady_clock::time_point> prepare_to_park() noexcept;
	/// Why a parked session was closed at its deadline (for the log).
	[[nodiscard]] std::string expiry_reason() const;

	/// Makes run() return after the call in flight, if any, is answered.
	/// Safe from another thread.
	void stop() noexcept;
	/// After stop(): cuts an answer the client has not taken since the last
	/// cut_unread_answer() (so every answer gets one interval), so that
	/// shutdown never waits on a client that does not read. A call still in
	/// its handler is left be: returns false then. One caller at a time.
	bool cut_unread_answer() noexcept;

	[[nodiscard]] const std::string &description() const noexcept { return description_; }
	[[nodiscard]] const PeerCredentials &peer() const noexcept { return peer_; }
	/// True while a message is half read (a parked session's deadline is
	/// then the message timeout, else the idle timeout).
	[[nodiscard]] bool in_message() const noexcept { return reader_.in_message(); }
	[[nodiscard]] int fd() const noexcept { return fd_.get(); }

	// A call answered later (drpc/deferred_answer.hpp). While it is out,
	// run() does not return (nor park), the next call waits for it, and
	// only the answering side touches the response buffer.

	/// DeferredAnswer's: its body, and its answer.
	[[nodiscard]] ResponseBody &deferred_body() noexcept { return response_; }
	void answer_deferred(Status status) noexcept;
	/// AnswerSender's: sends what the socket takes; true when nothing is
	/// left to send (all sent, or the session closed on a send error).
	bool send_more_of_answer() noexcept;
	/// AnswerSender's: the answer is sent, or given up. The last use of
	/// the session by whoever answered.
	void answer_done() noexcept;
	/// AnswerSender's: not taken by send_timeout; closes the session, then
	/// answer_done().
	void answer_timed_out() noexcept;

private:
	enum class State { reading, handling, sending };

	Outcome serve_calls();

	/// Answers one message; false when the answer could not be sent.
	bool dispatch(std::span<const uint8_t> message);
	bool send(int64_t sequence, Status status, bool with_body);
	/// Hands the call to a module that answers later.
	void start_deferred(ModuleRegistry::Lease lease, const CallContext &context, std::span<const uint8_t> body);
	/// Until no deferred answer is out.
	void wait_for_deferred() noexcept;
	[[nodiscard]] bool deferred_out() const noexcept;
	/// No answer out, decided under the answerer's mutex (see answer_done()).
	[[nodiscard]] bool deferred_answered() noexcept;
	/// Logs a refused answer buffer (the answer goes with its status only).
	void log_budget_refusal(int64_t sequence);
	/// Logs why an answer could not be sent, and counts a send timeout.
	void log_send_failure(int64_t sequence, const SystemError &error);
	/// Logs why reading failed: over the budget, or the framing error.
	void log_read_failure();

	UniqueFd fd_;
	SessionShared shared_;
	PeerCredentials peer_;
	std::string description_;
	// Apart, so that an answer built on another thread and the next call
	// being read never share counters.
	SessionBudget read_budget_;
	SessionBudget answer_budget_;
	framing::MessageReader reader_;
	ResponseBuffer response_;
	ModuleRegistry::Reader modules_;
	std::atomic<State> state_{State::reading};
	std::atomic<uint64_t> sends_started_{0};
	uint64_t send_seen_by_cut_ = UINT64_MAX;
	std::atomic<bool> stopping_{false};

	// The deferred call: deferred_state_ bits (session.cpp), and what the
	// answering side needs.
	std::atomic<uint32_t> deferred_state_{0};
	/// The session's thread's own: it has handed a call over at least once.
	bool deferred_used_ = false;
	/// The session's thread's own, within run().
	ForwardingPolicy forwarding_policy_;
	std::mutex deferred_mutex_;
	std::condition_variable deferred_done_;
	ModuleRegistry::Lease deferred_lease_;
	int64_t deferred_sequence_ = 0;
	std::span<const uint8_t> deferred_bytes_;
	uint32_t deferred_next_chunk_ = 0;
};

} // namespace drpc::detail
