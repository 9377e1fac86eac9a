// SPDX-License-Identifier: Apache-2.0
/// @file stats_command.hpp
/// `drpc-ctl stats`: the host's sessions, calls, uptime and module count.
#pragma once

#include "args.hpp"

#include <ostream>

namespace drpc::ctl {

/// Prints the admin module's STATS answer (or JSON with --json). Returns
/// exit_ok, or exit_status when the host answered another status; throws
/// UsageError, or drpc::Error when the call could not be made.
int run_stats(ArgCursor &args, GlobalOptions &global, std::ostream &out);

void print_stats_help(std::ostream &out);

} // namespace drpc::ctl
