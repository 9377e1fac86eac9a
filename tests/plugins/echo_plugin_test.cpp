// SPDX-License-Identifier: Apache-2.0
// echo.so through the C ABI: the body comes back unchanged, whatever its size.

#include "plugin_support.hpp"

#include <doctest/doctest.h>

#include <string>

using plugin_test::Instance;
using plugin_test::Library;

TEST_CASE("echo.so describes module 1000 'echo'")
{
	const Library library(plugin_test::plugin_path("echo"));
	const drpc_plugin &plugin = library.plugin();
	CHECK(plugin.abi_version == DRPC_PLUGIN_ABI_VERSION);
	CHECK(plugin.struct_size == sizeof(drpc_plugin));
	REQUIRE(plugin.info != nullptr);
	CHECK(plugin.info->module_id == 1000);
	CHECK(std::string(plugin.info->name) == "echo");
	CHECK((plugin.export_state == nullptr));
}

TEST_CASE("echo.so answers ECHO with the body unchanged")
{
	const Library library(plugin_test::plugin_path("echo"));
	const Instance echo(library.plugin());

	std::string mebibyte(size_t{1} << 20, '\0');
	for (size_t i = 0; i < mebibyte.size(); ++i)
		mebibyte[i] = static_cast<char>(i % 251);

	struct Case {
		const char *name;
		std::string body;
	};
	const Case cases[] = {
		{"0 bytes", ""},
		{"1 byte", std::string(1, '\0')},
		{"text", "hello, echo"},
		{"1 MiB", mebibyte},
	};
	for (const Case &c : cases) {
		SUBCASE(c.name)
		{
			const plugin_test::Answer answer = echo.call(0, c.body);
			CHECK(answer.status == DRPC_STATUS_SUCCESS);
			CHECK(answer.body == c.body);
		}
	}
}

TEST_CASE("echo.so refuses what it cannot answer")
{
	const Library library(plugin_test::plugin_path("echo"));
	const Instance echo(library.plugin());
	CHECK(echo.call(1, "x").status == DRPC_STATUS_UNKNOWN_METHOD);
	CHECK(echo.call(0, std::string(100, 'x'), 99).status == DRPC_STATUS_FAILED_MARSHAL);
}
