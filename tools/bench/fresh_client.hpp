// SPDX-License-Identifier: Apache-2.0
/// @file fresh_client.hpp
/// What a newly arriving client sees: the time from connect() to its first
/// answer, and the latency of the hello calls that follow.
#pragma once

#include "stats.hpp"

#include <filesystem>
#include <string>

namespace drpc::bench {

struct FreshClient {
	double first_answer_us = 0; ///< connect + first hello call
	LatencySummary calls;       ///< the calls after it
	std::string error;          ///< why it failed; empty when it did not
};

/// Connects to `socket` and makes `calls` + 1 hello calls (5 s deadline each).
[[nodiscard]] FreshClient fresh_client(const std::filesystem::path &socket, unsigned calls);

/// The encoded hello.Hello{name} of module 0, method 0, as a Call.
[[nodiscard]] std::string hello_call_bytes(const std::string &name, int64_t sequence);

} // namespace drpc::bench
