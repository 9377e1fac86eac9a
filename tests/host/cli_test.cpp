// SPDX-License-Identifier: Apache-2.0
// drpc-host's command line: flags, values, overrides and usage errors.
#include <cli.hpp>

#include <doctest/doctest.h>

#include <vector>

using drpc::host::CliOptions;
using drpc::host::parse_command_line;
using drpc::host::UsageError;

namespace {

CliOptions parse(std::vector<const char *> args) { return parse_command_line(args); }

std::string usage_error(std::vector<const char *> args)
{
	try {
		(void)parse(std::move(args));
	} catch (const UsageError &e) {
		return e.what();
	}
	return "(accepted)";
}

} // namespace

TEST_CASE("cli: no arguments")
{
	const CliOptions options = parse({});
	CHECK_FALSE(options.config);
	CHECK_FALSE(options.socket);
	CHECK_FALSE(options.plugins);
	CHECK_FALSE(options.log_level);
	CHECK_FALSE(options.help);
	CHECK_FALSE(options.version);
}

TEST_CASE("cli: every flag, long, short and with '='")
{
	const CliOptions spaced =
		parse({"--config", "c.json", "--socket", "/run/s.sock", "--plugins", "p", "--log-level", "debug"});
	CHECK(spaced.config == std::filesystem::path("c.json"));
	CHECK(spaced.socket == std::filesystem::path("/run/s.sock"));
	CHECK(spaced.plugins == std::filesystem::path("p"));
	CHECK(spaced.log_level == drpc::log::Level::debug);

	const CliOptions equals = parse({"--config=c.json", "--socket=/run/s.sock", "--plugins=p", "--log-level=warn"});
	CHECK(equals.config == std::filesystem::path("c.json"));
	CHECK(equals.socket == std::filesystem::path("/run/s.sock"));
	CHECK(equals.log_level == drpc::log::Level::warn);

	const CliOptions short_flags = parse({"-c", "c.json", "-s", "s", "-p", "p", "-l", "error"});
	CHECK(short_flags.plugins == std::filesystem::path("p"));
	CHECK(short_flags.log_level == drpc::log::Level::error);

	CHECK(parse({"--help"}).help);
	CHECK(parse({"-h"}).help);
	CHECK(parse({"--version"}).version);
	CHECK(parse({"-V"}).version);
	CHECK(parse({"--check-config"}).check_config);
	CHECK(parse({"-t"}).check_config);
	CHECK_FALSE(parse({"-V"}).check_config);
}

TEST_CASE("cli: usage errors")
{
	struct Case {
		const char *name;
		std::vector<const char *> args;
		const char *expected;
	};
	const Case cases[] = {
		{"unknown option", {"--bogus"}, "unknown option '--bogus'"},
		{"unknown short option", {"-x"}, "unknown option '-x'"},
		{"positional argument", {"extra"}, "unexpected argument 'extra'"},
		{"missing value", {"--socket"}, "--socket: missing value"},
		{"empty value", {"--plugins="}, "--plugins: expected a path"},
		{"bad level", {"--log-level", "loud"}, "--log-level: unknown level 'loud'"},
		{"given twice", {"--socket", "a", "--socket", "b"}, "--socket given twice"},
		{"value for a switch", {"--help=yes"}, "--help takes no value"},
	};
	for (const Case &c : cases) {
		SUBCASE(c.name) { CHECK(usage_error(c.args).find(c.expected) != std::string::npos); }
	}
}

TEST_CASE("cli: flags override the config, relative to the current directory")
{
	drpc::host::HostConfig config;
	config.socket.path = "/etc/x.sock";
	config.log_level = drpc::log::Level::info;
	drpc::host::apply_overrides(parse({"--socket", "s.sock", "--plugins", "/opt/p", "--log-level", "warn"}),
	                            config);
	CHECK(config.socket.path == std::filesystem::current_path() / "s.sock");
	CHECK(config.plugins.directory == "/opt/p");
	CHECK(config.log_level == drpc::log::Level::warn);

	drpc::host::HostConfig untouched;
	drpc::host::apply_overrides(parse({}), untouched);
	CHECK(untouched.socket.path.empty());
}

TEST_CASE("cli: the help text documents every flag")
{
	const std::string text = drpc::host::usage_text("drpc-host");
	for (const char *flag :
	     {"--config", "--socket", "--plugins", "--log-level", "--check-config", "--help", "--version"})
		CHECK(text.find(flag) != std::string::npos);
}
