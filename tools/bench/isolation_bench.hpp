// SPDX-License-Identifier: Apache-2.0
/// @file isolation_bench.hpp
/// drpc-bench --isolation: the echo plugin served by two drpc-host
/// processes, one in-process and one isolated (a worker process, one more
/// hop per call), each case against the floor in the same run.
#pragma once

#include "args.hpp"

namespace drpc::bench {

/// Isolated calls up to 4 KiB are held to this share of the floor's calls/s
/// (over 1 and over several connections), larger ones to the next.
inline constexpr double isolated_small_target = 0.45;
inline constexpr double isolated_bulk_target = 0.40;

/// Runs options.cases on both hosts; prints one line per case and host, then
/// the isolated/floor ratio against its target. Returns 0, or 1 when a host
/// could not be started. Throws std::runtime_error from a failed case.
int run_isolation(const Options &options);

} // namespace drpc::bench
