// SPDX-License-Identifier: Apache-2.0
// hello, echo and kv describe themselves through the C ABI: every method by
// name with its message types, and the descriptor set of their .proto file.

#include "plugin_support.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using plugin_test::Instance;
using plugin_test::Library;

namespace {

struct Method {
	int32_t number;
	std::string name;
	std::string request;
	std::string response;
};

struct Case {
	const char *plugin;
	const char *proto_file;
	std::vector<Method> methods;
};

} // namespace

TEST_CASE("the example plugins describe their methods and embed their descriptors")
{
	const std::vector<Case> cases = {
		{"hello", "hello.proto", {{0, "Greeting", "hello.Hello", "hello.HelloResponse"}}},
		{"echo", "echo.proto", {{0, "Echo", "echo.Message", "echo.Message"}}},
		{"kv",
	         "kv.proto",
	         {{0, "Put", "kv.PutRequest", "kv.PutResponse"},
	          {1, "Get", "kv.GetRequest", "kv.GetResponse"},
	          {2, "Delete", "kv.DeleteRequest", "kv.DeleteResponse"},
	          {3, "List", "kv.ListRequest", "kv.ListResponse"}}},
	};
	for (const Case &c : cases) {
		SUBCASE(c.plugin)
		{
			const Library library(plugin_test::plugin_path(c.plugin));
			const Instance instance(library.plugin());
			const drpc_plugin_description *description = instance.describe();
			REQUIRE(description != nullptr);
			CHECK(description->version == DRPC_PLUGIN_DESCRIPTION_VERSION);
			REQUIRE(description->method_count == c.methods.size());
			for (size_t i = 0; i < c.methods.size(); ++i) {
				CAPTURE(i);
				const drpc_method_description &method = description->methods[i];
				CHECK(method.method == c.methods[i].number);
				CHECK(std::string(method.name) == c.methods[i].name);
				CHECK(std::string(method.request_type) == c.methods[i].request);
				CHECK(std::string(method.response_type) == c.methods[i].response);
			}
			REQUIRE(description->descriptor_set != nullptr);
			CHECK(description->descriptor_set_len <= DRPC_DESCRIPTOR_SET_MAX);
			const std::string set(reinterpret_cast<const char *>(description->descriptor_set),
			                      description->descriptor_set_len);
			CHECK(set.find(c.proto_file) != std::string::npos);
		}
	}
}
