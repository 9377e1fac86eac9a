// SPDX-License-Identifier: Apache-2.0
/// @file app.hpp
/// drpc-host as a program: command line, config, process set-up, the host's
/// life from start to the shutdown signal, and the exit status.
#pragma once

namespace drpc::host {

/// Exit statuses of drpc-host.
inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1; ///< cannot start, or a call outlived the shutdown deadline
inline constexpr int exit_usage = 2;   ///< bad command line

/// Runs drpc-host with main()'s arguments; returns the exit status.
int run_host(int argc, char **argv) noexcept;

} // namespace drpc::host
