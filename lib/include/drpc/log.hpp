// SPDX-License-Identifier: Apache-2.0
/// @file drpc/log.hpp
/// One-line log records to stderr: "<UTC time> <LEVEL> <component>: <text>".
/// Thread-safe; each record is written with a single write(2).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace drpc::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

/// "debug", "info", "warn" (or "warning"), "error".
[[nodiscard]] std::optional<Level> parse_level(std::string_view text) noexcept;
[[nodiscard]] std::string_view to_string(Level level) noexcept;

void set_level(Level level) noexcept;
[[nodiscard]] Level level() noexcept;
[[nodiscard]] inline bool enabled(Level l) noexcept { return l >= level(); }

/// Replaces stderr as the destination (tests); an empty function restores it.
void set_sink(std::function<void(std::string_view line)> sink);

void write(Level level, std::string_view component, std::string_view text);

inline void debug(std::string_view component, std::string_view text)
{
	if (enabled(Level::debug))
		write(Level::debug, component, text);
}
inline void info(std::string_view component, std::string_view text) { write(Level::info, component, text); }
inline void warn(std::string_view component, std::string_view text) { write(Level::warn, component, text); }
inline void error(std::string_view component, std::string_view text) { write(Level::error, component, text); }

} // namespace drpc::log
