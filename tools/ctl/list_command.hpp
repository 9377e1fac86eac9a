// SPDX-License-Identifier: Apache-2.0
/// @file list_command.hpp
/// `drpc-ctl list`: the host's modules and the methods each describes.
#pragma once

#include "args.hpp"

#include <ostream>

namespace drpc::ctl {

/// Prints the admin module's DESCRIBE answer as modules and their methods
/// (or JSON with --json). Returns exit_ok, or exit_status when the host
/// answered another status; throws UsageError, or drpc::Error when the call
/// could not be made.
int run_list(ArgCursor &args, GlobalOptions &global, std::ostream &out);

void print_list_help(std::ostream &out);

} // namespace drpc::ctl
