// SPDX-License-Identifier: Apache-2.0
/// @file unload_command.hpp
/// `drpc-ctl unload`: unloads a plugin module from the running host.
#pragma once

#include "args.hpp"

#include <ostream>

namespace drpc::ctl {

/// Asks the admin module and prints what it did (or JSON with --json).
/// Returns exit_ok, or exit_status when the host refused or failed (its
/// reason on stderr) or answered another status; throws UsageError, or
/// drpc::Error when the call could not be made.
int run_unload(ArgCursor &args, GlobalOptions &global, std::ostream &out);

void print_unload_help(std::ostream &out);

} // namespace drpc::ctl
