// SPDX-License-Identifier: Apache-2.0
// The process-wide one-line logger.
#include <drpc/log.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <unistd.h>

namespace drpc::log {
namespace {

std::atomic<Level> current_level{Level::info};
std::mutex sink_mutex;
std::function<void(std::string_view)> custom_sink; // guarded by sink_mutex

std::string timestamp()
{
	const auto now = std::chrono::system_clock::now();
	const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
	const time_t seconds = static_cast<time_t>(ms / 1000);
	tm utc{};
	gmtime_r(&seconds, &utc);
	char text[64];
	std::snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
	              utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(ms % 1000));
	return text;
}

} // namespace

std::optional<Level> parse_level(std::string_view text) noexcept
{
	if (text == "debug")
		return Level::debug;
	if (text == "info")
		return Level::info;
	if (text == "warn" || text == "warning")
		return Level::warn;
	if (text == "error")
		return Level::error;
	return std::nullopt;
}

std::string_view to_string(Level level) noexcept
{
	switch (level) {
	case Level::debug:
		return "DEBUG";
	case Level::info:
		return "INFO";
	case Level::warn:
		return "WARN";
	case Level::error:
		return "ERROR";
	}
	return "?";
}

void set_level(Level level) noexcept { current_level.store(level, std::memory_order_relaxed); }
Level level() noexcept { return current_level.load(std::memory_order_relaxed); }

void set_sink(std::function<void(std::string_view)> sink)
{
	const std::lock_guard lock(sink_mutex);
	custom_sink = std::move(sink);
}

void write(Level level, std::string_view component, std::string_view text)
{
	if (!enabled(level))
		return;
	std::string line = timestamp();
	line += ' ';
	line += to_string(level);
	line += ' ';
	line += component;
	line += ": ";
	// One record per line, whatever the text holds.
	for (char c : text)
		line += (c == '\n' || c == '\r') ? ' ' : c;
	line += '\n';
	const std::lock_guard lock(sink_mutex);
	if (custom_sink) {
		custom_sink(std::string_view(line).substr(0, line.size() - 1));
		return;
	}
	const char *data = line.data();
	size_t left = line.size();
	while (left > 0) {
		const ssize_t written = ::write(STDERR_FILENO, data, left);
		if (written <= 0)
			break;
		data += written;
		left -= static_cast<size_t>(written);
	}
}

} // namespace drpc::log
