// SPDX-License-Identifier: Apache-2.0
/// @file describe_command.hpp
/// `drpc-ctl describe MODULE[.METHOD]`: a module's methods and their message
/// types as .proto text.
#pragma once

#include "args.hpp"

#include <ostream>

namespace drpc::ctl {

/// Prints what the host describes module MODULE (or its method METHOD)
/// with: the methods, then each message type they use as .proto text.
/// Returns exit_ok; throws UsageError for a module or method the host does
/// not have, drpc::Error when the call could not be made.
int run_describe(ArgCursor &args, GlobalOptions &global, std::ostream &out);

void print_describe_help(std::ostream &out);

} // namespace drpc::ctl
