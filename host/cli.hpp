// SPDX-License-Identifier: Apache-2.0
/// @file cli.hpp
/// drpc-host's command line: flags that override the common config keys.
#pragma once

#include "config.hpp"

#include <drpc/error.hpp>
#include <drpc/log.hpp>

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace drpc::host {

/// A command line the host does not understand (exit code 2); what() says
/// which argument and why.
class UsageError : public drpc::Error {
public:
	using drpc::Error::Error;
};

struct CliOptions {
	std::optional<std::filesystem::path> config;
	std::optional<std::filesystem::path> socket;
	std::optional<std::filesystem::path> plugins;
	std::optional<drpc::log::Level> log_level;
	bool help = false;
	bool version = false;
	bool check_config = false;
};

/// Parses the arguments after the program name. Flags take their value as
/// the next argument or after '=' (`--socket=/run/x.sock`); each may be given
/// once. Throws UsageError.
[[nodiscard]] CliOptions parse_command_line(std::span<const char *const> args);

/// The --help text.
[[nodiscard]] std::string usage_text(std::string_view program);

/// Puts the flags given over the config's values. Relative paths on the
/// command line are relative to the current directory.
void apply_overrides(const CliOptions &options, HostConfig &config);

} // namespace drpc::host
