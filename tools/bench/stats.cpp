// SPDX-License-Identifier: Apache-2.0
// Nearest-rank percentiles over the merged latency samples.
#include "stats.hpp"

#include <algorithm>
#include <cmath>

namespace drpc::bench {

int64_t percentile(std::span<const int64_t> sorted, double quantile) noexcept
{
	if (sorted.empty())
		return 0;
	const double clamped = std::clamp(quantile, 0.0, 1.0);
	// Nearest rank: the smallest sample with at least `quantile` of them at or below it.
	const auto rank = static_cast<size_t>(std::ceil(clamped * static_cast<double>(sorted.size())));
	return sorted[std::max<size_t>(rank, 1) - 1];
}

LatencySummary summarize(std::vector<int64_t> &samples_ns)
{
	LatencySummary summary;
	if (samples_ns.empty())
		return summary;
	std::sort(samples_ns.begin(), samples_ns.end());
	const auto us = [](int64_t ns) { return static_cast<double>(ns) / 1000.0; };
	double sum = 0;
	for (const int64_t sample : samples_ns)
		sum += static_cast<double>(sample);
	summary.count = samples_ns.size();
	summary.mean_us = sum / static_cast<double>(samples_ns.size()) / 1000.0;
	summary.p50_us = us(percentile(samples_ns, 0.50));
	summary.p99_us = us(percentile(samples_ns, 0.99));
	summary.p999_us = us(percentile(samples_ns, 0.999));
	summary.max_us = us(samples_ns.back());
	return summary;
}

} // namespace drpc::bench
