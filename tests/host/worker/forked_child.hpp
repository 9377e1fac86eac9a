// SPDX-License-Identifier: Apache-2.0
/// @file forked_child.hpp
/// Runs a test body in a forked child that may confine or sandbox itself for
/// good: the body reports through a pipe it is told about (so it can keep that
/// descriptor open), and the parent gets the report and the wait status.
#pragma once

#include <functional>
#include <string>

namespace worker_test {

struct ChildResult {
	std::string report; ///< what the body returned, or "exception: ..." when it threw
	int status = -1;    ///< waitpid()'s status
};

/// Forks; the child (with the default action for SIGSEGV, SIGABRT and the
/// other signals doctest catches) runs `body(report_fd)`, writes what it returns to the
/// parent and leaves with _exit(0) (_exit(1) after an exception), so no
/// atexit handler (LeakSanitizer's included) runs in a confined child.
/// Gives up on a child after 60 s (kills it). Throws std::system_error.
ChildResult run_in_child(const std::function<std::string(int report_fd)> &body);

/// "exited 0", "killed by signal 9": for CHECK messages.
std::string describe_status(int status);

} // namespace worker_test
