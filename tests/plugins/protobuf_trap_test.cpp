// SPDX-License-Identifier: Apache-2.0
// The protobuf trap of a reload: two builds of one plugin mapped at once, and
// a build mapped again after dlclose, in a process that holds its own copy of
// the same generated messages. Full-runtime generated code would abort here
// ("File already exists in database"); lite code must not.

#include "plugin_support.hpp"

#include "hello.pb.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <memory>
#include <string>

using namespace std::string_literals;
using plugin_test::Instance;
using plugin_test::Library;

namespace {

std::string greet(const Library &library, const std::string &name)
{
	hello::Hello request;
	request.set_name(name);
	const Instance instance(library.plugin());
	const plugin_test::Answer answer = instance.call(0, request.SerializeAsString());
	CHECK(answer.status == DRPC_STATUS_SUCCESS);
	hello::HelloResponse response;
	CHECK(response.ParseFromString(answer.body));
	return response.greeting();
}

} // namespace

TEST_CASE("two copies of hello.so load side by side, and again after dlclose")
{
	// The test's own use of the generated classes, before any plugin is mapped.
	hello::HelloResponse mine;
	mine.set_greeting("mine");
	const std::string mine_bytes = mine.SerializeAsString();

	const plugin_test::TempDir dir;
	const std::filesystem::path first = dir.path() / "hello-a.so";
	const std::filesystem::path second = dir.path() / "hello-b.so";
	std::filesystem::copy_file(plugin_test::plugin_path("hello"), first);
	std::filesystem::copy_file(plugin_test::plugin_path("hello"), second);

	auto a = std::make_unique<Library>(first);
	auto b = std::make_unique<Library>(second);
	// Different files are different mappings, as an old and a new build are.
	REQUIRE(a->handle() != b->handle());
	CHECK(&a->plugin() != &b->plugin());
	CHECK(greet(*a, "a") == "Hello a");
	CHECK(greet(*b, "b") == "Hello b");

	a.reset();
	CHECK(greet(*b, "b again") == "Hello b again");
	a = std::make_unique<Library>(first);
	CHECK(greet(*a, "a again") == "Hello a again");
	b.reset();
	a.reset();

	for (int round = 0; round < 3; ++round) {
		const Library again(first);
		CHECK(greet(again, std::to_string(round)) == "Hello " + std::to_string(round));
	}

	hello::HelloResponse parsed;
	REQUIRE(parsed.ParseFromString(mine_bytes));
	CHECK(parsed.greeting() == "mine");
}
