// SPDX-License-Identifier: Apache-2.0
/// @file stats.hpp
/// Latency percentiles of a load run.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace drpc::bench {

struct LatencySummary {
	uint64_t count = 0;
	double mean_us = 0;
	double p50_us = 0;
	double p99_us = 0;
	double p999_us = 0;
	double max_us = 0;
};

/// The nearest-rank `quantile` (0..1) of sorted samples; 0 when empty.
[[nodiscard]] int64_t percentile(std::span<const int64_t> sorted, double quantile) noexcept;

/// Sorts `samples_ns` in place and summarizes them in microseconds.
[[nodiscard]] LatencySummary summarize(std::vector<int64_t> &samples_ns);

} // namespace drpc::bench
