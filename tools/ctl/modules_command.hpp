// SPDX-License-Identifier: Apache-2.0
/// @file modules_command.hpp
/// `drpc-ctl modules`: the host's modules and the plugin files it refused.
#pragma once

#include "args.hpp"

#include <ostream>

namespace drpc::ctl {

/// Prints the admin module's LIST_MODULES answer as a table (or JSON with
/// --json). Returns exit_ok, or exit_status when the host answered another
/// status; throws UsageError, or drpc::Error when the call could not be made.
int run_modules(ArgCursor &args, GlobalOptions &global, std::ostream &out);

void print_modules_help(std::ostream &out);

} // namespace drpc::ctl
