// SPDX-License-Identifier: Apache-2.0
/// @file worker_main.hpp
/// drpc-host's hidden worker mode: one plugin, confined, served as a dRPC
/// server on the listening socket the host handed down.
#pragma once

#include <span>

namespace drpc::host::isolation {

/// Runs a worker; `args` are argv[2...] (after worker_mode_flag). In order:
/// reads its module config, confines itself (host/worker/confinement.hpp:
/// death signal checked, no_new_privs, only its descriptors, uid/gid,
/// memory budget), enters the sandbox when asked, loads the plugin from its
/// descriptor through the host's loader and checks, says "ready" on its
/// status descriptor and serves until SIGTERM. Returns the exit status; a
/// refusal is written to the status descriptor first. Never throws.
int run_worker(std::span<const char *const> args) noexcept;

} // namespace drpc::host::isolation
