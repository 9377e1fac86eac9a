// SPDX-License-Identifier: Apache-2.0
// drpc-ctl's argument reading: the cursor, numbers, and call's options.

#include "args.hpp"
#include "call_command.hpp"
#include "errors.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using drpc::ctl::ArgCursor;
using drpc::ctl::CallOptions;
using drpc::ctl::GlobalOptions;
using drpc::ctl::UsageError;

namespace {

CallOptions parse_call(std::vector<std::string_view> args, GlobalOptions &global)
{
	ArgCursor cursor(std::move(args));
	return drpc::ctl::parse_call_options(cursor, global);
}

CallOptions parse_call(std::vector<std::string_view> args)
{
	GlobalOptions global;
	return parse_call(std::move(args), global);
}

} // namespace

TEST_CASE("ArgCursor reads options, values and positionals")
{
	ArgCursor args({"--socket", "/s", "--module=5", "--json", "-1", "call", "--help"});
	REQUIRE(args.at_option());
	drpc::ctl::Option socket = args.take_option();
	CHECK(socket.name == "--socket");
	CHECK_FALSE(socket.inline_value);
	CHECK(args.value(socket) == "/s");

	drpc::ctl::Option module = args.take_option();
	CHECK(module.name == "--module");
	CHECK(args.value(module) == "5");

	// A value may look like an option.
	drpc::ctl::Option json = args.take_option();
	CHECK(args.value(json) == "-1");

	CHECK_FALSE(args.at_option());
	CHECK(args.take("command") == "call");
	drpc::ctl::Option help = args.take_option();
	CHECK(drpc::ctl::is_help(help));
	CHECK(args.done());
	CHECK_THROWS_AS((void)args.take("command"), UsageError);
	CHECK_THROWS_AS((void)args.value(help), UsageError);
	CHECK_THROWS_WITH_AS((void)args.take_option(), "missing an option", UsageError);
}

TEST_CASE("ArgCursor refuses a value given to a flag")
{
	ArgCursor args({"--help=yes"});
	const drpc::ctl::Option help = args.take_option();
	CHECK_THROWS_WITH_AS(args.no_value(help), "--help takes no value", UsageError);
}

TEST_CASE("parse_int32 takes decimal and hex, in range")
{
	struct Case {
		const char *text;
		int32_t value;
	};
	const Case good[] = {
		{"0", 0},
		{"1000", 1000},
		{"-1", -1},
		{"0x7fff0000", 0x7fff0000},
		{"0X10", 16},
		{"2147483647", 2147483647},
		{"-2147483648", INT32_MIN},
		{"-0x10", -16},
	};
	for (const Case &c : good) {
		CAPTURE(c.text);
		CHECK(drpc::ctl::parse_int32(c.text, "--module") == c.value);
	}
	for (const char *bad :
	     {"", "-", "0x", "12a", " 1", "1 ", "2147483648", "-2147483649", "0x80000000", "+1", "1.5"}) {
		CAPTURE(bad);
		CHECK_THROWS_AS((void)drpc::ctl::parse_int32(bad, "--module"), UsageError);
	}
	CHECK_THROWS_WITH_AS((void)drpc::ctl::parse_int32("x", "--method"),
	                     "--method: expected a 32-bit integer, got 'x'", UsageError);
}

TEST_CASE("parse_uint64 takes whole unsigned decimals")
{
	CHECK(drpc::ctl::parse_uint64("0", "--timeout") == 0);
	CHECK(drpc::ctl::parse_uint64("18446744073709551615", "--timeout") == UINT64_MAX);
	for (const char *bad : {"", "-1", "18446744073709551616", "1ms", "0x10"}) {
		CAPTURE(bad);
		CHECK_THROWS_AS((void)drpc::ctl::parse_uint64(bad, "--timeout"), UsageError);
	}
}

TEST_CASE("call's options")
{
	SUBCASE("a typed request")
	{
		const CallOptions options =
			parse_call({"--module", "0", "--method=0", "--request", "hello.Hello", "--json",
		                    R"({"name":"x"})", "--response", "hello.HelloResponse", "--timeout", "500"});
		CHECK(options.module == 0);
		CHECK(options.method == 0);
		CHECK(options.request_type == "hello.Hello");
		CHECK(options.json == R"({"name":"x"})");
		CHECK(options.response_type == "hello.HelloResponse");
		CHECK(options.timeout == std::chrono::milliseconds(500));
		CHECK_FALSE(options.help);
	}
	SUBCASE("raw bodies and defaults")
	{
		const CallOptions hex = parse_call({"--module", "1000", "--method", "0", "--body-hex", "0a06"});
		CHECK(hex.body_hex == "0a06");
		CHECK(hex.response_type.empty());
		CHECK(hex.timeout == std::chrono::milliseconds(30000));
		const CallOptions file = parse_call({"--module", "1", "--method", "2", "--body-file", "/tmp/x"});
		CHECK(file.body_file == std::filesystem::path("/tmp/x"));
	}
	SUBCASE("a target by name, its JSON after it")
	{
		const CallOptions named = parse_call({"kv.Put", R"({"key":"a"})", "--timeout", "5"});
		CHECK(named.target == "kv.Put");
		CHECK(named.json == R"({"key":"a"})");
		CHECK(named.request_type.empty()); // from the host's DESCRIBE, later
		CHECK(parse_call({"1001.0"}).target == "1001.0");
		CHECK_FALSE(parse_call({"1001.0"}).json);
	}
	SUBCASE("--socket after the command")
	{
		GlobalOptions global;
		(void)parse_call({"--socket", "/tmp/other.sock", "--module", "1", "--method", "2"}, global);
		CHECK(global.socket == "/tmp/other.sock");
	}
	SUBCASE("--help stops reading")
	{
		CHECK(parse_call({"--help", "--bogus"}).help);
		CHECK(parse_call({"-h"}).help);
	}

	struct Bad {
		const char *name;
		std::vector<std::string_view> args;
		const char *mentions;
	};
	const Bad bad[] = {
		{"no module", {"--method", "0"}, "--module is required"},
		{"no method", {"--module", "0"}, "--method is required"},
		{"unknown option", {"--module", "0", "--method", "0", "--bogus"}, "--bogus"},
		{"target and numbers", {"--module", "0", "--method", "0", "kv.Put"}, "not both"},
		{"a third positional", {"kv.Put", "{}", "extra"}, "unexpected argument 'extra'"},
		{"JSON and hex", {"kv.Put", "{}", "--body-hex", "00"}, "give one body"},
		{"bad number", {"--module", "zero", "--method", "0"}, "--module"},
		{"missing value", {"--module", "0", "--method"}, "--method needs a value"},
		{"json without type", {"--module", "0", "--method", "0", "--json", "{}"}, "--request"},
		{"two bodies", {"--module", "0", "--method", "0", "--body-hex", "00", "--body-file", "f"}, "one body"},
		{"type and hex",
	         {"--module", "0", "--method", "0", "--request", "hello.Hello", "--body-hex", "00"},
	         "one body"},
		{"bad timeout", {"--module", "0", "--method", "0", "--timeout", "-5"}, "--timeout"},
	};
	for (const Bad &c : bad) {
		SUBCASE(c.name)
		{
			try {
				(void)parse_call(c.args);
				FAIL("parsed");
			} catch (const UsageError &e) {
				CHECK(std::string(e.what()).find(c.mentions) != std::string::npos);
			}
		}
	}
}
