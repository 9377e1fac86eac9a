// SPDX-License-Identifier: Apache-2.0
/// @file load_command.hpp
/// `drpc-ctl load`: loads a plugin file into the running host.
#pragma once

#include "args.hpp"

#include <ostream>

namespace drpc::ctl {

/// Asks the admin module and prints what it did (or JSON with --json).
/// Returns exit_ok, or exit_status when the host refused or failed (its
/// reason on stderr) or answered another status; throws UsageError, or
/// drpc::Error when the call could not be made.
int run_load(ArgCursor &args, GlobalOptions &global, std::ostream &out);

void print_load_help(std::ostream &out);

} // namespace drpc::ctl
