// SPDX-License-Identifier: Apache-2.0
// drpc-ctl's command-line reading.

#include "args.hpp"

#include "errors.hpp"

#include <charconv>
#include <cstdlib>
#include <limits>
#include <string>
#include <unistd.h>

namespace drpc::ctl {

namespace {

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

/// Parses all of `text` as an unsigned number in `base`; false on anything else.
bool parse_unsigned(std::string_view text, int base, uint64_t &value)
{
	if (text.empty())
		return false;
	const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, base);
	return error == std::errc() && end == text.data() + text.size();
}

} // namespace

std::filesystem::path default_socket_path()
{
	const char *env = std::getenv("DRPC_SOCKET");
	if (env != nullptr && *env != '\0')
		return env;
	const char *runtime = std::getenv("XDG_RUNTIME_DIR");
	if (::geteuid() != 0 && runtime != nullptr && runtime[0] == '/')
		return std::filesystem::path(runtime) / "drpc" / "drpc-host.sock";
	return "/run/drpc/drpc-host.sock";
}

std::optional<uid_t> default_server_uid() noexcept
{
	if (::geteuid() == 0)
		return uid_t{0};
	return std::nullopt;
}

ClientOptions client_options(const GlobalOptions &global) noexcept
{
	ClientOptions options;
	options.require_server_uid = global.server_uid;
	return options;
}

bool ArgCursor::at_option() const noexcept { return !done() && args_[next_].size() > 1 && args_[next_][0] == '-'; }

std::string_view ArgCursor::take(std::string_view what)
{
	if (done())
		throw UsageError("missing " + std::string(what));
	return args_[next_++];
}

Option ArgCursor::take_option()
{
	if (!at_option())
		throw UsageError(done() ? "missing an option" : "unexpected argument " + quoted(args_[next_]));
	const std::string_view text = args_[next_++];
	const size_t equals = text.find('=');
	// Only long options take "=VALUE"; "-h=x" is an unknown option.
	if (equals == std::string_view::npos || !text.starts_with("--"))
		return {text, std::nullopt};
	return {text.substr(0, equals), text.substr(equals + 1)};
}

std::string_view ArgCursor::value(const Option &option)
{
	if (option.inline_value)
		return *option.inline_value;
	if (done())
		throw UsageError(std::string(option.name) + " needs a value");
	return args_[next_++];
}

void ArgCursor::no_value(const Option &option) const
{
	if (option.inline_value)
		throw UsageError(std::string(option.name) + " takes no value");
}

bool is_help(const Option &option) noexcept { return option.name == "--help" || option.name == "-h"; }

int32_t parse_int32(std::string_view text, std::string_view what)
{
	const bool negative = text.starts_with('-');
	std::string_view digits = negative ? text.substr(1) : text;
	int base = 10;
	if (digits.starts_with("0x") || digits.starts_with("0X")) {
		digits.remove_prefix(2);
		base = 16;
	}
	uint64_t magnitude = 0;
	const uint64_t limit = negative ? uint64_t{1} << 31 : uint64_t{std::numeric_limits<int32_t>::max()};
	if (!parse_unsigned(digits, base, magnitude) || magnitude > limit)
		throw UsageError(std::string(what) + ": expected a 32-bit integer, got " + quoted(text));
	const auto value = static_cast<int64_t>(magnitude);
	return static_cast<int32_t>(negative ? -value : value);
}

uint64_t parse_uint64(std::string_view text, std::string_view what)
{
	uint64_t value = 0;
	if (!parse_unsigned(text, 10, value))
		throw UsageError(std::string(what) + ": expected an unsigned integer, got " + quoted(text));
	return value;
}

} // namespace drpc::ctl
