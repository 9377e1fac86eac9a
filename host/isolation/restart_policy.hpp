// SPDX-License-Identifier: Apache-2.0
/// @file restart_policy.hpp
/// When a dead worker is started again: exponential backoff, and a crash
/// loop (too many deaths in a window) puts the module in state failed.
#pragma once

#include <chrono>
#include <deque>
#include <optional>

namespace drpc::host::isolation {

class RestartPolicy {
public:
	using Clock = std::chrono::steady_clock;

	/// Deaths within `window` that make a crash loop.
	static constexpr size_t max_deaths = 5;
	static constexpr std::chrono::seconds window{60};
	/// The first restart's delay, doubled for each death still in the window.
	static constexpr std::chrono::milliseconds first_delay{100};
	static constexpr std::chrono::milliseconds max_delay{10000};

	/// Counts a death at `now`; returns how long to wait before the next
	/// start, or nothing when that makes a crash loop.
	[[nodiscard]] std::optional<std::chrono::milliseconds> death(Clock::time_point now);

	/// Deaths counted within the window before `now`.
	[[nodiscard]] size_t recent_deaths(Clock::time_point now);

private:
	void forget_before(Clock::time_point now);

	std::deque<Clock::time_point> deaths_;
};

} // namespace drpc::host::isolation
