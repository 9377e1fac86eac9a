// SPDX-License-Identifier: Apache-2.0
// Hex encoding and decoding of bodies.

#include "hex.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace std::string_literals;

TEST_CASE("to_hex writes two lower-case digits per byte")
{
	CHECK(drpc::ctl::to_hex("") == "");
	CHECK(drpc::ctl::to_hex("\x0a\x06"s + "Friend") == "0a06467269656e64");
	CHECK(drpc::ctl::to_hex("\x00\xff\x10"s) == "00ff10");
}

TEST_CASE("from_hex reads what to_hex writes, and forgiving separators")
{
	struct Case {
		const char *text;
		std::string bytes;
	};
	const Case good[] = {
		{"", ""},
		{"0a06467269656e64", "\x0a\x06"s + "Friend"},
		{"0A06", "\x0a\x06"},
		{"0a 06 ff", "\x0a\x06\xff"},
		{"0a:06:00", "\x0a\x06\x00"s},
		{" 0a\n06\t", "\x0a\x06"},
	};
	for (const Case &c : good) {
		CAPTURE(c.text);
		const auto bytes = drpc::ctl::from_hex(c.text);
		REQUIRE(bytes);
		CHECK(*bytes == c.bytes);
	}
	for (const char *bad : {"0", "0a0", "0g", "zz", "0 a", "0x0a", "0a-06"}) {
		CAPTURE(bad);
		CHECK_FALSE(drpc::ctl::from_hex(bad));
	}
	std::string all;
	for (int i = 0; i < 256; ++i)
		all.push_back(static_cast<char>(i));
	CHECK(drpc::ctl::from_hex(drpc::ctl::to_hex(all)) == all);
}
