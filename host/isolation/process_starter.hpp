// SPDX-License-Identifier: Apache-2.0
/// @file process_starter.hpp
/// The lifecycle's IsolatedStarter for isolation "process": one worker
/// monitor for the host, one supervised worker per module generation.
#pragma once

#include "../lifecycle/isolated_starter.hpp"

#include <filesystem>
#include <memory>

namespace drpc::host::isolation {

/// How long a new worker has to load its plugin and say it is ready.
inline constexpr std::chrono::milliseconds worker_start_timeout{10000};

/// Starts workers running `executable` (drpc-host, in its worker mode),
/// those with memory_limit_bytes in a cgroup as `cgroups` says (found or
/// checked with the first of them).
[[nodiscard]] std::shared_ptr<IsolatedStarter> make_process_starter(std::filesystem::path executable,
                                                                    WorkerCgroupChoice cgroups);

} // namespace drpc::host::isolation
