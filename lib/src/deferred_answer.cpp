// SPDX-License-Identifier: Apache-2.0
// A deferred answer's handle; the session does the work.
#include <drpc/deferred_answer.hpp>

#include "session.hpp"

namespace drpc {
namespace {

/// An empty handle's body: refuses every buffer, so that a use of a handle
/// already answered reads as "over the limit", never as a crash.
class NoBody final : public ResponseBody {
public:
	std::span<uint8_t> reserve(size_t) noexcept override { return {}; }
};

} // namespace

DeferredAnswer &DeferredAnswer::operator=(DeferredAnswer &&other) noexcept
{
	if (this != &other) {
		answer(Status::FAILURE);
		session_ = std::exchange(other.session_, nullptr);
	}
	return *this;
}

DeferredAnswer::~DeferredAnswer() { answer(Status::FAILURE); }

ResponseBody &DeferredAnswer::body() const noexcept
{
	if (session_ == nullptr) {
		static NoBody none;
		return none;
	}
	return session_->deferred_body();
}

void DeferredAnswer::answer(Status status) noexcept
{
	// Emptied first: the session may be gone once it has its answer.
	if (detail::Session *session = std::exchange(session_, nullptr))
		session->answer_deferred(status);
}

} // namespace drpc
