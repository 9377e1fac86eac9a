// SPDX-License-Identifier: Apache-2.0
/// @file flood_bench.hpp
/// drpc-bench --flood: the memory and slow-client attacks on one server
/// while a bystander keeps calling it. Many connections each send all but
/// the last chunk of a maximum-size message; others stall after a first
/// chunk (slow loris) or send calls with large answers and never read them.
/// Prints the server's peak RSS against its in-flight budget and the
/// bystander's failed calls, which must be 0.
#pragma once

#include "args.hpp"

namespace drpc::bench {

/// Prints the report; returns 1 when the bystander had a failed call or the
/// server did not shut down cleanly.
int run_flood(const Options &options);

} // namespace drpc::bench
