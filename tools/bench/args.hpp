// SPDX-License-Identifier: Apache-2.0
/// @file args.hpp
/// drpc-bench's command line.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace drpc::bench {

/// One measured configuration: a payload over a number of connections.
struct Case {
	size_t payload_bytes = 0;
	unsigned connections = 1;
};

/// --reload-storm: an in-process drpc-host reloading the storm plugin under load.
struct StormOptions {
	bool enabled = false;
	unsigned connections = 8;
	unsigned reloads = 100;
	/// The steady-state window measured before the storm.
	std::chrono::duration<double> steady{2.0};
	/// Where storm_a.so and storm_b.so are; empty: where the build put them.
	std::filesystem::path plugin_dir;
};

struct Options {
	/// Measure this running server instead of an in-process one.
	std::optional<std::filesystem::path> socket;
	int32_t module = 0;
	int32_t method = 0;
	/// Send raw body bytes instead of a hello.Hello.
	bool raw = false;
	std::vector<Case> cases;
	/// Measuring time per case and side, split over `rounds`.
	std::chrono::duration<double> seconds{3.0};
	/// Measured calls per connection, case and side instead (0: use seconds).
	uint64_t calls = 0;
	/// Warm-up before each round's measurement.
	std::chrono::duration<double> warmup{0.2};
	/// dRPC and floor alternate this many times per case, so that a change
	/// in the machine's background load hits both alike.
	unsigned rounds = 3;
	bool json = false;
	bool help = false;
	StormOptions storm;
	/// --sessions N: hold N idle sessions and report the server's cost.
	size_t sessions = 0;
	/// --flood: the memory and slow-client attacks with a bystander.
	bool flood = false;
	/// --isolation: echo in-process and isolated in two drpc-host processes.
	bool isolation = false;
	/// --flood-connections: connections of the memory attack (the slow ones scale with it).
	unsigned flood_connections = 64;
};

/// Parses the arguments after the program name; throws std::invalid_argument
/// naming the option and the bad value.
[[nodiscard]] Options parse_args(const std::vector<std::string_view> &args);

/// "64", "4k", "4KiB", "1M", "1MiB", "2MB" (binary multiples); throws
/// std::invalid_argument.
[[nodiscard]] size_t parse_size(std::string_view text);

[[nodiscard]] std::string usage();

} // namespace drpc::bench
