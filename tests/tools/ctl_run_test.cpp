// SPDX-License-Identifier: Apache-2.0
// The built drpc-ctl against a real server on a temp socket: its output and
// its exit codes.

#include "ctl_support.hpp"

#include <drpc/log.hpp>
#include <drpc/server.hpp>

#include <doctest/doctest.h>

#include <fstream>
#include <memory>
#include <string>

using ctl_test::run_ctl;

namespace {

bool contains(const std::string &text, const std::string &part) { return text.find(part) != std::string::npos; }

using Fixture = ctl_test::HelloEchoServer;

} // namespace

TEST_CASE("drpc-ctl call prints SUCCESS and the body, and exits 0")
{
	Fixture fixture;
	const std::vector<std::string> socket{"--socket", fixture.socket};

	SUBCASE("a typed call to hello, as JSON both ways")
	{
		const auto run =
			run_ctl({"--socket", fixture.socket, "call", "--module", "0", "--method", "0", "--request",
		                 "hello.Hello", "--json", R"({"name":"Friend"})", "--response", "hello.HelloResponse"});
		CHECK(run.err == "");
		CHECK(run.out == "status: SUCCESS\n{\"greeting\":\"Hello Friend\"}\n");
		CHECK(run.exit_code == 0);
	}
	SUBCASE("raw hex in, hex out")
	{
		const auto run = run_ctl({"--socket", fixture.socket, "call", "--module", "1000", "--method", "0",
		                          "--body-hex", "0a 06 46 72 69 65 6e 64"});
		CHECK(run.out == "status: SUCCESS\n0a06467269656e64\n");
		CHECK(run.exit_code == 0);
	}
	SUBCASE("an empty answer prints no body line")
	{
		const auto run = run_ctl({"call", "--socket", fixture.socket, "--module", "1000", "--method", "0"});
		CHECK(run.out == "status: SUCCESS\n");
		CHECK(run.exit_code == 0);
	}
	SUBCASE("the socket from DRPC_SOCKET")
	{
		const auto run =
			run_ctl({"call", "--module", "0", "--method", "0", "--response", "hello.HelloResponse"},
		                fixture.socket);
		CHECK(run.out == "status: SUCCESS\n{\"greeting\":\"Hello \"}\n");
		CHECK(run.exit_code == 0);
	}
	SUBCASE("a body from a file, large enough to take several chunks")
	{
		const auto file = fixture.dir.path() / "body.bin";
		std::string body(300000, '\0');
		for (size_t i = 0; i < body.size(); ++i)
			body[i] = static_cast<char>(i % 251);
		std::ofstream(file, std::ios::binary) << body;
		const auto run = run_ctl({"--socket", fixture.socket, "call", "--module", "1000", "--method", "0",
		                          "--body-file", file.string()});
		CHECK(run.exit_code == 0);
		REQUIRE(run.out.size() == std::string("status: SUCCESS\n").size() + 2 * body.size() + 1);
		CHECK(run.out.substr(16, 8) == "00010203");
	}
}

TEST_CASE("drpc-ctl call exits 1 on a status other than SUCCESS")
{
	Fixture fixture;
	struct Case {
		const char *name;
		std::vector<std::string> args;
		const char *status;
	};
	const Case cases[] = {
		{"unknown module", {"--module", "99", "--method", "0"}, "UNKNOWN_MODULE"},
		{"unknown method", {"--module", "0", "--method", "7"}, "UNKNOWN_METHOD"},
		{"undecodable payload",
	         {"--module", "0", "--method", "0", "--body-hex", "ffffff"},
	         "FAILED_UNMARSHAL_PAYLOAD"},
	};
	for (const Case &c : cases) {
		SUBCASE(c.name)
		{
			std::vector<std::string> args{"--socket", fixture.socket, "call"};
			args.insert(args.end(), c.args.begin(), c.args.end());
			const auto run = run_ctl(args);
			CHECK(run.out == std::string("status: ") + c.status + "\n");
			CHECK(run.exit_code == 1);
		}
	}
}

TEST_CASE("drpc-ctl exits 2 on a command line it cannot use, before sending anything")
{
	Fixture fixture;
	struct Case {
		const char *name;
		std::vector<std::string> args;
		const char *mentions;
	};
	const Case cases[] = {
		{"bad JSON",
	         {"call", "--module", "0", "--method", "0", "--request", "hello.Hello", "--json", R"({"name":)"},
	         "the JSON is not a valid hello.Hello"},
		{"a field the type does not have",
	         {"call", "--module", "0", "--method", "0", "--request", "hello.Hello", "--json", R"({"nam":"x"})"},
	         "hello.Hello"},
		{"unknown request type",
	         {"call", "--module", "0", "--method", "0", "--request", "hello.Nope"},
	         "hello.Nope"},
		{"unknown response type",
	         {"call", "--module", "0", "--method", "0", "--response", "kv.Nope"},
	         "kv.Nope"},
		{"bad hex", {"call", "--module", "0", "--method", "0", "--body-hex", "0g"}, "--body-hex"},
		{"missing body file",
	         {"call", "--module", "0", "--method", "0", "--body-file", "/nonexistent/body"},
	         "/nonexistent/body"},
		{"no method", {"call", "--module", "0"}, "--method is required"},
		{"unknown command", {"frobnicate"}, "unknown command 'frobnicate'"},
		{"no command", {}, "missing command"},
		{"unknown global option", {"--bogus", "call"}, "--bogus"},
	};
	for (const Case &c : cases) {
		SUBCASE(c.name)
		{
			std::vector<std::string> args{"--socket", fixture.socket};
			args.insert(args.end(), c.args.begin(), c.args.end());
			const auto run = run_ctl(args);
			CHECK(run.exit_code == 2);
			CHECK(run.out == "");
			CHECK(contains(run.err, c.mentions));
			CHECK(contains(run.err, "--help"));
			CHECK(fixture.server.stats().calls_served == 0);
		}
	}
}

TEST_CASE("drpc-ctl exits 3 when it cannot make the call")
{
	SUBCASE("no server: the message names the socket")
	{
		const ctl_test::TempDir dir;
		const std::string socket = (dir.path() / "nobody.sock").string();
		const auto run = run_ctl({"--socket", socket, "call", "--module", "0", "--method", "0"});
		CHECK(run.exit_code == 3);
		CHECK(run.out == "");
		CHECK(contains(run.err, socket));
	}
	SUBCASE("a SUCCESS body that is not the --response type")
	{
		Fixture fixture;
		const auto run = run_ctl({"--socket", fixture.socket, "call", "--module", "1000", "--method", "0",
		                          "--body-hex", "ffffff", "--response", "hello.HelloResponse"});
		CHECK(run.exit_code == 3);
		CHECK(run.out == "status: SUCCESS\nffffff\n");
		CHECK(contains(run.err, "does not decode as hello.HelloResponse"));
	}
}

TEST_CASE("drpc-ctl explains itself on every level")
{
	struct Case {
		const char *name;
		std::vector<std::string> args;
		const char *mentions;
	};
	const Case cases[] = {
		{"--help", {"--help"}, "commands:"},
		{"-h", {"-h"}, "exit status:"},
		{"help", {"help"}, "call"},
		{"call --help", {"call", "--help"}, "--module N"},
		{"help call", {"help", "call"}, "--response TYPE"},
		{"types --help", {"types", "--help"}, "usage: drpc-ctl types"},
	};
	for (const Case &c : cases) {
		SUBCASE(c.name)
		{
			const auto run = run_ctl(c.args);
			CHECK(run.exit_code == 0);
			CHECK(run.err == "");
			CHECK(contains(run.out, c.mentions));
		}
	}
	SUBCASE("the default socket is the host's")
	{
		CHECK(contains(run_ctl({"--help"}).out, "/run/drpc/drpc-host.sock for root"));
	}
}

TEST_CASE("drpc-ctl types lists the compiled-in messages")
{
	const auto run = run_ctl({"types"});
	CHECK(run.exit_code == 0);
	for (const char *name : {"\nhello.Hello\n", "\nhello.HelloResponse\n", "\nkv.PutRequest\n", "\ndrpc.Call\n"})
		CHECK(contains("\n" + run.out, name));
}
