// SPDX-License-Identifier: Apache-2.0
/// @file types_command.hpp
/// `drpc-ctl types`: lists the message types --request and --response know.
#pragma once

#include "args.hpp"

#include <ostream>

namespace drpc::ctl {

/// Prints one full type name per line, sorted. Throws UsageError.
int run_types(ArgCursor &args, GlobalOptions &global, std::ostream &out);

void print_types_help(std::ostream &out);

} // namespace drpc::ctl
