// SPDX-License-Identifier: Apache-2.0
/// @file sessions_bench.hpp
/// drpc-bench --sessions N: opens and holds N idle sessions on one server
/// and prints what the server holds for them (RSS, threads, descriptors)
/// and how fast a fresh client is answered meanwhile.
#pragma once

#include "args.hpp"

namespace drpc::bench {

/// Prints the report; returns the exit status (1 when a session or the
/// fresh client failed, or the server did not shut down cleanly).
int run_sessions(const Options &options);

} // namespace drpc::bench
