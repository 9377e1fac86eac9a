// SPDX-License-Identifier: Apache-2.0
/// @file drpc/deferred_answer.hpp
/// The answer to one call of a module that answers later
/// (Module::answers_later()), given from any thread.
///
/// The session that read the call stays open, reads no further call of its
/// client until this one is answered (so a client's answers keep their
/// order), and closes only after it is answered. answer() never blocks on
/// the client: what its socket cannot take at once is sent by the server's
/// sender thread, and a client that does not read it within
/// ServerOptions::send_timeout is closed, as a session's own answer would be.
/// A session that has handed a call over runs its thread SCHED_BATCH until
/// it closes or parks (its nice value kept; the thread gets its policy back).
#pragma once

#include <drpc/module.hpp>
#include <drpc/status.hpp>

#include <utility>

namespace drpc {

namespace detail {
class Session;
}

class DeferredAnswer {
public:
	/// Answers nothing: an empty handle.
	DeferredAnswer() noexcept = default;
	DeferredAnswer(DeferredAnswer &&other) noexcept : session_(std::exchange(other.session_, nullptr)) {}
	/// Answers this handle's call FAILURE first, if it has one.
	DeferredAnswer &operator=(DeferredAnswer &&other) noexcept;
	DeferredAnswer(const DeferredAnswer &) = delete;
	DeferredAnswer &operator=(const DeferredAnswer &) = delete;
	/// A call never answered is answered FAILURE.
	~DeferredAnswer();

	/// True while it holds a call still to be answered.
	[[nodiscard]] explicit operator bool() const noexcept { return session_ != nullptr; }

	/// Where the answer's body goes (the session's own buffer, within the
	/// server's message and in-flight limits); sent only with SUCCESS. On
	/// an empty handle, a body whose reserve() refuses every size.
	[[nodiscard]] ResponseBody &body() const noexcept;

	/// Sends the answer: `status`, and with SUCCESS the body last reserved.
	/// Empties the handle; nothing on an empty one. Thread-safe against
	/// everything but another use of the same handle.
	void answer(Status status) noexcept;

private:
	friend class detail::Session;
	explicit DeferredAnswer(detail::Session *session) noexcept : session_(session) {}

	/// Not owned: a session outlives its answer (it does not close before).
	detail::Session *session_ = nullptr;
};

} // namespace drpc
