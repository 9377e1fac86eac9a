// SPDX-License-Identifier: Apache-2.0
// The compiled-in message types and the JSON mapping drpc-ctl uses.

#include "descriptors.hpp"
#include "errors.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>

using namespace std::string_literals;
using drpc::ctl::Descriptors;
using drpc::ctl::UsageError;

TEST_CASE("the compiled-in set has every project message")
{
	const std::vector<std::string> names = Descriptors::builtin().message_names();
	CHECK(std::is_sorted(names.begin(), names.end()));
	for (const char *name : {"drpc.Call", "drpc.Response", "hello.Hello", "hello.HelloResponse", "kv.PutRequest",
	                         "kv.ListResponse", "admin.ListModulesResponse", "admin.ModuleInfo"}) {
		CAPTURE(name);
		CHECK(std::find(names.begin(), names.end(), name) != names.end());
	}
	CHECK_THROWS_AS((void)Descriptors::builtin().message("hello.Nope"), UsageError);
}

TEST_CASE("a garbled descriptor set is refused")
{
	const uint8_t garbage[] = {0xff, 0xff, 0xff};
	CHECK_THROWS_AS(Descriptors{std::span<const uint8_t>(garbage)}, std::runtime_error);
}

TEST_CASE("JSON to bytes matches the wire encoding DAOS uses")
{
	const Descriptors &descriptors = Descriptors::builtin();
	const auto &hello = descriptors.message("hello.Hello");
	CHECK(descriptors.json_to_bytes(hello, R"({"name":"Friend"})") == "\x0a\x06"s + "Friend");
	CHECK(descriptors.json_to_bytes(hello, "{}").empty());

	const auto &put = descriptors.message("kv.PutRequest");
	// bytes fields are base64 in protobuf's JSON mapping.
	CHECK(descriptors.json_to_bytes(put, R"({"key":"k","value":"AAE="})") == "\x0a\x01k\x12\x02\x00\x01"s);

	for (const char *bad : {R"({"nam":"x"})", R"({"name":5})", "{", "[]", ""}) {
		CAPTURE(bad);
		CHECK_THROWS_AS((void)descriptors.json_to_bytes(hello, bad), UsageError);
	}
}

TEST_CASE("bytes to JSON prints every field with its .proto name")
{
	const Descriptors &descriptors = Descriptors::builtin();
	CHECK(descriptors.bytes_to_json(descriptors.message("hello.HelloResponse"), "\x0a\x0c"s + "Hello Friend") ==
	      R"({"greeting":"Hello Friend"})");
	CHECK(descriptors.bytes_to_json(descriptors.message("kv.GetResponse"), "") == R"({"found":false,"value":""})");
	CHECK(descriptors.bytes_to_json(descriptors.message("admin.StatsResponse"), "\x08\x02") ==
	      R"({"sessions_open":2,"sessions_total":0,"calls_served":0,"uptime_ms":0,"modules_loaded":0,)"
	      R"("sessions_parked":0,"inflight_bytes":0,"inflight_peak_bytes":0,"sessions_refused":0,)"
	      R"("refused_session_limit":0,"refused_no_descriptor":0,"refused_no_thread":0,"closed_over_budget":0,)"
	      R"("closed_message_timeout":0,"closed_idle_timeout":0,"closed_send_timeout":0,"closed_framing_error":0})");
	CHECK_FALSE(descriptors.bytes_to_json(descriptors.message("hello.HelloResponse"), "\xff\xff\xff"));
}
