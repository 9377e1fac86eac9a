// SPDX-License-Identifier: Apache-2.0
// SCHED_BATCH for a session thread that forwards its calls (see forwarding_policy.hpp).
#include "forwarding_policy.hpp"

#include <sched.h>

namespace drpc::detail {

void ForwardingPolicy::enter() noexcept
{
	if (state_ != State::untouched)
		return;
	// 0: the calling thread. The nice value is kept: only how its wake-ups
	// preempt changes. Refused (a seccomp filter, say): it runs as before.
	const sched_param none{};
	state_ = ::sched_getscheduler(0) == SCHED_OTHER && ::sched_setscheduler(0, SCHED_BATCH, &none) == 0
	                 ? State::changed
	                 : State::kept;
}

void ForwardingPolicy::leave() noexcept
{
	if (state_ == State::changed) {
		const sched_param none{};
		(void)::sched_setscheduler(0, SCHED_OTHER, &none);
	}
	state_ = State::untouched;
}

} // namespace drpc::detail
