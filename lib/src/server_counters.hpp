// SPDX-License-Identifier: Apache-2.0
/// @file server_counters.hpp
/// How many sessions the server refused or closed, per limit that did it
/// (shown as ServerStats). Each is counted where it happens, rarely: none is
/// touched on a call's path.
#pragma once

#include <drpc/server.hpp>

#include <atomic>
#include <cstdint>

namespace drpc::detail {

struct ServerCounters {
	std::atomic<uint64_t> refused_session_limit{0};
	std::atomic<uint64_t> refused_no_descriptor{0};
	std::atomic<uint64_t> refused_no_thread{0};
	std::atomic<uint64_t> closed_over_budget{0};
	std::atomic<uint64_t> closed_message_timeout{0};
	std::atomic<uint64_t> closed_idle_timeout{0};
	std::atomic<uint64_t> closed_send_timeout{0};
	std::atomic<uint64_t> closed_framing_error{0};

	/// Copies the counters into `stats`.
	void fill(ServerStats &stats) const noexcept
	{
		stats.refused_session_limit = refused_session_limit.load(std::memory_order_relaxed);
		stats.refused_no_descriptor = refused_no_descriptor.load(std::memory_order_relaxed);
		stats.refused_no_thread = refused_no_thread.load(std::memory_order_relaxed);
		stats.closed_over_budget = closed_over_budget.load(std::memory_order_relaxed);
		stats.closed_message_timeout = closed_message_timeout.load(std::memory_order_relaxed);
		stats.closed_idle_timeout = closed_idle_timeout.load(std::memory_order_relaxed);
		stats.closed_send_timeout = closed_send_timeout.load(std::memory_order_relaxed);
		stats.closed_framing_error = closed_framing_error.load(std::memory_order_relaxed);
	}
};

/// Counts one event.
inline void count(std::atomic<uint64_t> &counter) noexcept { counter.fetch_add(1, std::memory_order_relaxed); }

} // namespace drpc::detail
