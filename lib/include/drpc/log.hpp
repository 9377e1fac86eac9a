// SPDX-License-Identifier: Apache-2.0
/// @file drpc/log.hpp
/// One-line log records to stderr: "<UTC time> <LEVEL> <component>: <text>".
/// Thread-safe; each record is written with a single write(2). Every record is
/// one line of at most `max_record_bytes`, with control characters escaped,
/// whatever its text holds, so nothing a peer sends can forge or flood a line.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
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

/// Text that came from outside the process (a client, a peer, a file name, a
/// plugin's message), made safe to log: cut to `max_bytes` (saying how much
/// was cut) and every byte that is not printable ASCII written as \xNN.
[[nodiscard]] std::string untrusted(std::string_view text, size_t max_bytes = 256);

/// The longest record written; a longer text is cut, saying so.
inline constexpr size_t max_record_bytes = 4096;

/// Limits one kind of repeated record (one per call site, usually a static):
/// the first `burst` records of each interval are written in full, the rest
/// are counted, and the next record after the interval is preceded by one
/// "<N> more '<kind>' records suppressed" line (as journald does).
class RateLimit {
public:
	explicit RateLimit(std::string kind, unsigned burst = 5,
	                   std::chrono::milliseconds interval = std::chrono::seconds(10));

	/// Writes the record, or counts it as suppressed. Thread-safe.
	void write(Level level, std::string_view component, std::string_view text);

	/// Records suppressed so far (tests, stats).
	[[nodiscard]] uint64_t suppressed_total() const noexcept;

private:
	const std::string kind_;
	const unsigned burst_;
	const std::chrono::milliseconds interval_;
	mutable std::mutex mutex_;
	std::chrono::steady_clock::time_point window_start_{};
	unsigned written_in_window_ = 0;
	uint64_t suppressed_in_window_ = 0;
	uint64_t suppressed_total_ = 0;
};

inline void debug(std::string_view component, std::string_view text)
{
	if (enabled(Level::debug))
		write(Level::debug, component, text);
}
inline void info(std::string_view component, std::string_view text) { write(Level::info, component, text); }
inline void warn(std::string_view component, std::string_view text) { write(Level::warn, component, text); }
inline void error(std::string_view component, std::string_view text) { write(Level::error, component, text); }
inline void warn(RateLimit &limit, std::string_view component, std::string_view text)
{
	limit.write(Level::warn, component, text);
}
inline void error(RateLimit &limit, std::string_view component, std::string_view text)
{
	limit.write(Level::error, component, text);
}

} // namespace drpc::log
