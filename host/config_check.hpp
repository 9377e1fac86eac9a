// SPDX-License-Identifier: Apache-2.0
/// @file config_check.hpp
/// drpc-host --check-config: what a start would load and refuse, without
/// serving or running any plugin code (like `nginx -t`).
#pragma once

#include "config.hpp"

#include <ostream>

namespace drpc::host {

/// Opens the plugins directory as a start would, reads each plugin's info
/// record from a private copy (nothing is mapped as code), and prints one
/// line per plugin: "load NAME: module ID (name version)" or "refuse NAME:
/// reason", then a summary. Returns true when the directory opens and
/// every plugin would load. Never throws: every failure is printed.
[[nodiscard]] bool check_config(const HostConfig &config, std::ostream &out) noexcept;

} // namespace drpc::host
