// SPDX-License-Identifier: Apache-2.0
// The process-wide one-line logger.
#include <drpc/log.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <sys/stat.h>
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

void append_hex(std::string &out, unsigned char c)
{
	static constexpr char digits[] = "0123456789abcdef";
	out += "\\x";
	out += digits[c >> 4];
	out += digits[c & 0xf];
}

void append_escaped_control(std::string &out, char c)
{
	const auto byte = static_cast<unsigned char>(c);
	if (byte < 0x20 || byte == 0x7f)
		append_hex(out, byte);
	else
		out += c;
}

/// True when stderr is the journal (systemd sets JOURNAL_STREAM to its
/// "device:inode"): then the journal stamps the time, and a "<N>" syslog
/// priority prefix gives each line its level there.
bool stderr_is_journal() noexcept
{
	const char *stream = std::getenv("JOURNAL_STREAM");
	struct stat info {};
	if (stream == nullptr || ::fstat(STDERR_FILENO, &info) != 0)
		return false;
	unsigned long long device = 0;
	unsigned long long inode = 0;
	return std::sscanf(stream, "%llu:%llu", &device, &inode) == 2 && device == info.st_dev && inode == info.st_ino;
}

char syslog_priority(Level level) noexcept
{
	switch (level) {
	case Level::debug:
		return '7';
	case Level::info:
		return '6';
	case Level::warn:
		return '4';
	case Level::error:
		return '3';
	}
	return '6';
}

} // namespace

std::string untrusted(std::string_view text, size_t max_bytes)
{
	std::string out;
	const size_t shown = std::min(text.size(), max_bytes);
	out.reserve(shown + 32);
	for (size_t i = 0; i < shown; ++i) {
		const auto byte = static_cast<unsigned char>(text[i]);
		if (byte < 0x20 || byte >= 0x7f || byte == '\\')
			append_hex(out, byte);
		else
			out += text[i];
	}
	if (shown < text.size())
		out += "...(" + std::to_string(text.size() - shown) + " more bytes)";
	return out;
}

RateLimit::RateLimit(std::string kind, unsigned burst, std::chrono::milliseconds interval)
	: kind_(std::move(kind)), burst_(burst), interval_(interval)
{
}

void RateLimit::write(Level level, std::string_view component, std::string_view text)
{
	if (!enabled(level))
		return;
	uint64_t suppressed_before = 0;
	{
		const std::lock_guard lock(mutex_);
		const auto now = std::chrono::steady_clock::now();
		if (now - window_start_ >= interval_) {
			suppressed_before = suppressed_in_window_;
			suppressed_in_window_ = 0;
			written_in_window_ = 0;
			window_start_ = now;
		}
		if (written_in_window_ >= burst_) {
			++suppressed_in_window_;
			++suppressed_total_;
			return;
		}
		++written_in_window_;
	}
	if (suppressed_before > 0)
		log::write(level, component,
		           std::to_string(suppressed_before) + " more '" + kind_ + "' records suppressed");
	log::write(level, component, text);
}

uint64_t RateLimit::suppressed_total() const noexcept
{
	const std::lock_guard lock(mutex_);
	return suppressed_total_;
}

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
	static const bool to_journal = stderr_is_journal();
	std::string line = to_journal ? std::string{'<', syslog_priority(level), '>'} : timestamp() + ' ';
	line += to_string(level);
	line += ' ';
	line += component;
	line += ": ";
	// One record per line, whatever the text holds: no raw control
	// character reaches a terminal or splits the record.
	size_t taken = 0;
	for (; taken < text.size() && line.size() < max_record_bytes; ++taken)
		append_escaped_control(line, text[taken]);
	if (taken < text.size())
		line += " ...(" + std::to_string(text.size() - taken) + " more bytes)";
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
