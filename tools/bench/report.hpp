// SPDX-License-Identifier: Apache-2.0
/// @file report.hpp
/// drpc-bench's output: one line per case for people, JSON for programs.
#pragma once

#include "benchmark.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace drpc::bench {

/// "64 B", "4 KiB", "1 MiB", "1000 B".
[[nodiscard]] std::string size_text(size_t bytes);

/// "hello 64 B x 1 conn: drpc ... | floor ... | ratio 0.77 (target >= 0.70) PASS"
[[nodiscard]] std::string format_case(const std::string &label, const CaseResult &result);

[[nodiscard]] nlohmann::json case_json(const std::string &label, const CaseResult &result);

} // namespace drpc::bench
