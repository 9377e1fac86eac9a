// SPDX-License-Identifier: Apache-2.0
/// @file storm_report.hpp
/// The reload storm's output: a table with a verdict per target for people,
/// JSON for programs.
#pragma once

#include "reload_storm.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace drpc::bench {

/// The figures, then one line per target ending in PASS or BELOW.
[[nodiscard]] std::string format_storm(const StormResult &result);

[[nodiscard]] nlohmann::json storm_json(const StormResult &result);

} // namespace drpc::bench
