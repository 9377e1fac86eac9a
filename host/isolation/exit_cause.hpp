// SPDX-License-Identifier: Apache-2.0
/// @file exit_cause.hpp
/// How a worker process ended, as one phrase for log lines and listings.
#pragma once

#include <signal.h>
#include <string>

namespace drpc::host::isolation {

/// "exited with status 3", "killed by signal 11 (SIGSEGV), core dumped",
/// from what waitid() reported.
[[nodiscard]] std::string describe_exit(const siginfo_t &info);

} // namespace drpc::host::isolation
