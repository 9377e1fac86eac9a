// SPDX-License-Identifier: Apache-2.0
// The logger: one line per record, escaped and capped; rate limits.
#include <drpc/log.hpp>

#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

namespace {

struct CapturedLog {
	std::vector<std::string> lines;
	CapturedLog()
	{
		drpc::log::set_sink([this](std::string_view line) { lines.emplace_back(line); });
	}
	~CapturedLog() { drpc::log::set_sink({}); }
	CapturedLog(const CapturedLog &) = delete;
	CapturedLog &operator=(const CapturedLog &) = delete;
};

} // namespace

TEST_CASE("untrusted text is escaped and cut")
{
	SUBCASE("printable ASCII passes") { CHECK(drpc::log::untrusted("hello.so") == "hello.so"); }
	SUBCASE("control characters and escapes")
	{
		CHECK(drpc::log::untrusted("a\x1b[31mb\n") == "a\\x1b[31mb\\x0a");
		CHECK(drpc::log::untrusted("back\\slash") == "back\\x5cslash");
	}
	SUBCASE("bytes beyond ASCII") { CHECK(drpc::log::untrusted("\xc2\x9b") == "\\xc2\\x9b"); }
	SUBCASE("cut at the limit, saying how much")
	{
		CHECK(drpc::log::untrusted(std::string(300, 'x'), 256) == std::string(256, 'x') + "...(44 more bytes)");
		CHECK(drpc::log::untrusted("abc", 0) == "...(3 more bytes)");
	}
}

TEST_CASE("every record is one capped line with control characters escaped")
{
	CapturedLog log;
	drpc::log::warn("test", "line\none\r\x1b]0;title\x07");
	drpc::log::warn("test", std::string(8 << 20, 'y'));
	REQUIRE(log.lines.size() == 2);
	CHECK(log.lines[0].find("line\\x0aone\\x0d\\x1b]0;title\\x07") != std::string::npos);
	CHECK(log.lines[0].find('\x1b') == std::string::npos);
	CHECK(log.lines[1].size() < drpc::log::max_record_bytes + 64);
	CHECK(log.lines[1].find("more bytes)") != std::string::npos);
}

TEST_CASE("a rate limit writes a burst, then one summary per interval")
{
	CapturedLog log;
	drpc::log::RateLimit limit("bad connection", 3, std::chrono::milliseconds(500));
	for (int i = 0; i < 100; ++i)
		drpc::log::warn(limit, "server", "bad connection " + std::to_string(i));
	CHECK(log.lines.size() == 3);
	CHECK(limit.suppressed_total() == 97);
	std::this_thread::sleep_for(std::chrono::milliseconds(550));
	drpc::log::warn(limit, "server", "after the interval");
	REQUIRE(log.lines.size() == 5);
	CHECK(log.lines[3].find("97 more 'bad connection' records suppressed") != std::string::npos);
	CHECK(log.lines[4].find("after the interval") != std::string::npos);
}

TEST_CASE("a rate-limited record below the level is neither written nor counted")
{
	CapturedLog log;
	drpc::log::RateLimit limit("quiet", 1, std::chrono::seconds(10));
	drpc::log::set_level(drpc::log::Level::error);
	for (int i = 0; i < 5; ++i)
		drpc::log::warn(limit, "server", "not shown");
	drpc::log::set_level(drpc::log::Level::info);
	CHECK(log.lines.empty());
	CHECK(limit.suppressed_total() == 0);
}
