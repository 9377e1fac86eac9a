// SPDX-License-Identifier: Apache-2.0
// Backoff and crash-loop detection for worker restarts.
#include "restart_policy.hpp"

#include <algorithm>

namespace drpc::host::isolation {

std::optional<std::chrono::milliseconds> RestartPolicy::death(Clock::time_point now)
{
	forget_before(now);
	deaths_.push_back(now);
	if (deaths_.size() >= max_deaths)
		return std::nullopt;
	std::chrono::milliseconds delay = first_delay;
	for (size_t i = 1; i < deaths_.size() && delay < max_delay; ++i)
		delay *= 2;
	return std::min(delay, max_delay);
}

size_t RestartPolicy::recent_deaths(Clock::time_point now)
{
	forget_before(now);
	return deaths_.size();
}

void RestartPolicy::forget_before(Clock::time_point now)
{
	while (!deaths_.empty() && now - deaths_.front() >= window)
		deaths_.pop_front();
}

} // namespace drpc::host::isolation
