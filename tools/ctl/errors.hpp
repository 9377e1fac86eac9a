// SPDX-License-Identifier: Apache-2.0
/// @file errors.hpp
/// drpc-ctl's exit codes, and the error a command throws for a command line
/// it cannot use.
#pragma once

#include <stdexcept>

namespace drpc::ctl {

/// drpc-ctl's exit status (listed in `drpc-ctl --help`).
enum ExitCode : int {
	exit_ok = 0,         ///< the server answered SUCCESS, or the command did what was asked
	exit_status = 1,     ///< the server answered a status other than SUCCESS
	exit_usage = 2,      ///< a command line drpc-ctl cannot use (option, number, type, JSON, hex)
	exit_connection = 3, ///< no connection, a timeout, or an answer that breaks the protocol
};

/// A command line drpc-ctl cannot use; what() says which argument and why.
class UsageError : public std::runtime_error {
public:
	using std::runtime_error::runtime_error;
};

} // namespace drpc::ctl
