// SPDX-License-Identifier: Apache-2.0
// drpc-ctl's message types from --proto and --protoset (DAOS's own
// hello.proto against an in-process hello server), 64-bit integers printed
// as JSON numbers, and --version.

#include "ctl_support.hpp"

#include <descriptors.hpp>
#include <errors.hpp>
#include <type_sources.hpp>

#include <drpc/error.hpp>
#include <drpc/log.hpp>
#include <drpc/server.hpp>

#include <doctest/doctest.h>

#include <memory>
#include <string>

#ifndef DRPC_TEST_DAOS_PROTO_DIR
#error "DRPC_TEST_DAOS_PROTO_DIR must name tests/tools/daos"
#endif
#ifndef DRPC_TEST_DAOS_PROTOSET
#error "DRPC_TEST_DAOS_PROTOSET must name the descriptor set built from daos/hello.proto"
#endif

using ctl_test::run_ctl;

namespace {

bool contains(const std::string &text, const std::string &part) { return text.find(part) != std::string::npos; }

const std::string daos_dir = DRPC_TEST_DAOS_PROTO_DIR;

using Fixture = ctl_test::HelloEchoServer;

} // namespace

TEST_CASE("drpc-ctl call with DAOS's hello.proto, from --proto and from --protoset")
{
	Fixture fixture;
	std::vector<std::string> args{"--socket", fixture.socket, "call", "--module", "0", "--method", "0"};
	SUBCASE("--proto FILE -I DIR") { args.insert(args.end(), {"--proto", "hello.proto", "-I", daos_dir}); }
	SUBCASE("--proto with a path and no -I: the file's own directory")
	{
		args.insert(args.end(), {"--proto", daos_dir + "/hello.proto"});
	}
	SUBCASE("--protoset FILE") { args.insert(args.end(), {"--protoset", DRPC_TEST_DAOS_PROTOSET}); }
	args.insert(args.end(),
	            {"--request", "hello.Hello", "--json", R"({"name":"DAOS"})", "--response", "hello.HelloResponse"});
	const auto run = run_ctl(args);
	CHECK(run.err == "");
	CHECK(run.out == "status: SUCCESS\n{\"greeting\":\"Hello DAOS\"}\n");
	CHECK(run.exit_code == 0);
}

TEST_CASE("drpc-ctl types lists what --proto adds")
{
	const auto run = run_ctl({"types", "--proto", daos_dir + "/hello.proto"});
	CHECK(run.exit_code == 0);
	CHECK(contains(run.out, "hello.Hello\n"));
	CHECK(contains(run.out, "admin.StatsResponse\n")); // the compiled-in types stay
}

TEST_CASE("drpc-ctl refuses a type source it cannot use, naming the file")
{
	struct Case {
		std::vector<std::string> args;
		std::string message;
	};
	const Case cases[] = {
		{{"types", "--proto", "missing.proto", "-I", daos_dir}, "--proto missing.proto"},
		{{"types", "--proto", daos_dir + "/broken.proto"}, "broken.proto:5:"},
		{{"types", "--protoset", daos_dir + "/hello.proto"}, "not a FileDescriptorSet"},
		{{"types", "--protoset", daos_dir + "/none.pb"}, "--protoset " + daos_dir + "/none.pb"},
		{{"types", "-I", daos_dir}, "-I/--proto-path without --proto"},
	};
	for (const Case &c : cases) {
		CAPTURE(c.args.back());
		const auto run = run_ctl(c.args);
		CHECK(run.exit_code == 2);
		CHECK(contains(run.err, c.message));
		CHECK(run.out == "");
	}
}

TEST_CASE("drpc-ctl prints 64-bit integers as JSON numbers, keeping the field order")
{
	Fixture fixture;
	// Echo sends the request back, so the response is the request re-read.
	const auto run = run_ctl({"--socket", fixture.socket, "call", "--module", "1000", "--method", "0", "--request",
	                          "admin.StatsResponse", "--json",
	                          R"({"sessions_open":"5","calls_served":"18446744073709551615"})", "--response",
	                          "admin.StatsResponse"});
	CHECK(run.err == "");
	CHECK(contains(run.out, R"("sessions_open":5,)"));
	CHECK(contains(run.out, R"("calls_served":18446744073709551615)"));
	CHECK(run.exit_code == 0);
}

TEST_CASE("drpc-ctl --version and the help texts")
{
	const auto version = run_ctl({"--version"});
	CHECK(version.exit_code == 0);
	CHECK(version.out.starts_with("drpc-ctl "));
	const auto load = run_ctl({"load", "--help"});
	CHECK(contains(load.out, "module 1000 (echo 1.0.0)"));
	CHECK(!contains(load.out, "1000 (hello"));
}

TEST_CASE("a host's described set comes before --proto and the built-in types")
{
	// DAOS's hello.proto (its hello.Hello has a field 'name' = 1, as ours)
	// described by the host wins over a --proto of the same file name and
	// over the compiled-in one: its messages are the ones built.
	google::protobuf::FileDescriptorSet daos;
	{
		drpc::ctl::TypeSourceOptions sources;
		sources.protosets.emplace_back(DRPC_TEST_DAOS_PROTOSET);
		daos = drpc::ctl::load_type_sources(sources);
	}
	REQUIRE(daos.file_size() > 0);
	google::protobuf::FileDescriptorProto marked = daos.file(0);
	REQUIRE(marked.name() == "hello.proto");
	marked.mutable_message_type(0)->set_name("Described");
	google::protobuf::FileDescriptorSet described;
	*described.add_file() = marked;

	drpc::ctl::TypeSourceOptions sources;
	sources.described_sets.push_back(described.SerializeAsString());
	sources.protos.emplace_back(daos_dir + "/hello.proto");
	const drpc::ctl::Descriptors descriptors(drpc::ctl::load_type_sources(sources));
	CHECK(descriptors.message("hello.Described").field_count() >= 1);
	CHECK_THROWS_AS((void)descriptors.message("hello.Hello"), drpc::ctl::UsageError);

	drpc::ctl::TypeSourceOptions broken;
	broken.described_sets.push_back("\x0a\x7f");
	CHECK_THROWS_AS((void)drpc::ctl::load_type_sources(broken), drpc::ProtocolError);
}
