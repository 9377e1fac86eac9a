// SPDX-License-Identifier: Apache-2.0
// A deferred answer's handle; the session does the work.
#include <drpc/deferred_answer.hpp>

#include "session.hpp"

namespace drpc {

DeferredAnswer &DeferredAnswer::operator=(DeferredAnswer &&other) noexcept
{
	if (this != &other) {
		answer(Status::FAILURE);
		session_ = std::exchange(other.session_, nullptr);
	}
	return *this;
}

DeferredAnswer::~DeferredAnswer() { answer(Status::FAILURE); }

ResponseBody &DeferredAnswer::body() const noexcept { return session_->deferred_body(); }

void DeferredAnswer::answer(Status status) noexcept
{
	// Emptied first: the session may be gone once it has its answer.
	if (detail::Session *session = std::exchange(session_, nullptr))
		session->answer_deferred(status);
}

} // namespace drpc
