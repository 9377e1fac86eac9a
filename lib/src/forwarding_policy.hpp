// SPDX-License-Identifier: Apache-2.0
/// @file forwarding_policy.hpp
/// A session's thread runs SCHED_BATCH while it serves a session that hands
/// its calls to modules answering later (drpc/deferred_answer.hpp), such as
/// drpc-host's isolated modules.
///
/// Why: such a session only reads calls and passes them on; another thread
/// writes the answers. Woken by its client's next call, a normal thread
/// preempts whatever runs on its CPU, which under load is that answering
/// thread (or the worker process serving the calls), in the middle of
/// answering the other clients. As a batch thread it runs once that one
/// sleeps. Sessions that answer inline are left as they are: for them the
/// woken session thread is the one doing the work.
#pragma once

namespace drpc::detail {

class ForwardingPolicy {
public:
	/// Makes the calling thread SCHED_BATCH if it runs SCHED_OTHER (any
	/// other policy is someone's choice, kept). Looks once until leave():
	/// a thread left as it was pays no system call per call either.
	void enter() noexcept;
	/// Puts SCHED_OTHER back if enter() changed it, so that a pooled thread
	/// goes on to its next session as it came. On enter()'s thread.
	void leave() noexcept;

private:
	enum class State { untouched, changed, kept };
	State state_ = State::untouched;
};

} // namespace drpc::detail
