// SPDX-License-Identifier: Apache-2.0
// hello.so through the C ABI: its descriptor, and answers byte-identical to
// DAOS's own hello module (the bodies in tests/wire-vectors).

#include "plugin_support.hpp"

#include "hello.pb.h"

#include <doctest/doctest.h>

#include <cstring>
#include <string>

using namespace std::string_literals;
using plugin_test::Instance;
using plugin_test::Library;

TEST_CASE("hello.so describes module 0 'hello'")
{
	const Library library(plugin_test::plugin_path("hello"));
	const drpc_plugin &plugin = library.plugin();
	CHECK(plugin.abi_version == DRPC_PLUGIN_ABI_VERSION);
	CHECK(plugin.struct_size == sizeof(drpc_plugin));
	REQUIRE(plugin.info != nullptr);
	CHECK(std::memcmp(plugin.info->magic, DRPC_PLUGIN_INFO_MAGIC, sizeof(plugin.info->magic)) == 0);
	CHECK(plugin.info->abi_version == DRPC_PLUGIN_ABI_VERSION);
	CHECK(plugin.info->module_id == 0);
	CHECK(std::string(plugin.info->name) == "hello");
	CHECK(std::string(plugin.info->version) == "1.0.0");
	CHECK((plugin.create != nullptr));
	CHECK((plugin.destroy != nullptr));
	CHECK((plugin.call != nullptr));
	// hello keeps no state, so it does not offer a handoff.
	CHECK((plugin.export_state == nullptr));
	CHECK((plugin.import_state == nullptr));
	// The version script exports the entry and nothing else.
	CHECK(library.symbol("drpc_plugin_info_record") == nullptr);
}

TEST_CASE("hello.so answers GREETING as DAOS's hello module does")
{
	const Library library(plugin_test::plugin_path("hello"));
	const Instance hello(library.plugin());

	struct Case {
		const char *name;
		std::string body;
		std::string expected;
	};
	const Case cases[] = {
		// The body of hello_call / hello_response in tests/wire-vectors.
		{"wire vector", "\x0a\x06"s + "Friend", "\x0a\x0c"s + "Hello Friend"},
		// empty_call / empty_call_response: an empty body is Hello{name ""}.
		{"empty body", "", "\x0a\x06"s + "Hello "},
	};
	for (const Case &c : cases) {
		SUBCASE(c.name)
		{
			const plugin_test::Answer answer = hello.call(0, c.body);
			CHECK(answer.status == DRPC_STATUS_SUCCESS);
			CHECK(answer.body == c.expected);
		}
	}

	SUBCASE("a 200000-byte name, as large_hello_call")
	{
		hello::Hello request;
		request.set_name(std::string(200000, 'x'));
		const plugin_test::Answer answer = hello.call(0, request.SerializeAsString());
		REQUIRE(answer.status == DRPC_STATUS_SUCCESS);
		CHECK(answer.body.size() == 200010);
		hello::HelloResponse response;
		REQUIRE(response.ParseFromString(answer.body));
		CHECK(response.greeting() == "Hello " + std::string(200000, 'x'));
	}
}

TEST_CASE("hello.so maps bad calls to the dRPC status DAOS uses")
{
	const Library library(plugin_test::plugin_path("hello"));
	const Instance hello(library.plugin());

	SUBCASE("an undecodable body")
	{
		const plugin_test::Answer answer = hello.call(0, "\xff\xff\xff");
		CHECK(answer.status == DRPC_STATUS_FAILED_UNMARSHAL_PAYLOAD);
		CHECK(answer.body.empty());
	}
	SUBCASE("a method hello does not have")
	{
		for (int32_t method : {1, 2, -1, 1000}) {
			CAPTURE(method);
			CHECK(hello.call(method, "\x0a\x01x").status == DRPC_STATUS_UNKNOWN_METHOD);
		}
	}
	SUBCASE("an answer over the host's limit")
	{
		CHECK(hello.call(0, "\x0a\x06"s + "Friend", 4).status == DRPC_STATUS_FAILED_MARSHAL);
	}
}
