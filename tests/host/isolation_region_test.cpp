// SPDX-License-Identifier: Apache-2.0
// Large bodies to an isolated module cross the region the host shares with
// its worker (host/isolation/shared_region.hpp): every size around its
// limits comes back intact, and callers beyond its slots go through the
// socket without waiting for one.
#include "isolation_support.hpp"

#include <isolation/shared_region.hpp>

#include <drpc/client.hpp>

#include <doctest/doctest.h>

#include <future>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using drpc::host::isolation::SharedRegion;
using isolation_test::echo_id;
using isolation_test::IsolatedHost;

namespace {

const std::string isolated_echo = R"({"echo": {"isolation": "process"}})";

/// Bytes no other call of the test has, so that a mixed-up slot shows.
std::string body_of(size_t size, uint32_t caller, uint32_t call)
{
	std::string body(size, '\0');
	uint32_t x = caller * 2654435761u + call * 40503u + 1;
	for (char &c : body) {
		x = x * 1664525u + 1013904223u;
		c = static_cast<char>(x >> 24);
	}
	return body;
}

/// Whether echo answered `body` with itself.
bool echoed(drpc::ClientConnection &connection, const std::string &body)
{
	drpc::Call call;
	call.set_module(echo_id);
	call.set_method(0);
	call.set_body(body);
	const drpc::Response response = connection.send_msg(call);
	return response.status() == drpc::Status::SUCCESS && response.body() == body;
}

} // namespace

TEST_CASE("isolation: bodies of every size around the shared region's limits come back intact")
{
	IsolatedHost host({}, isolated_echo);
	drpc::ClientConnection connection(host.socket(), drpc::ClientOptions{.call_timeout = 30s});
	connection.connect();
	const size_t sizes[] = {0,
	                        1,
	                        SharedRegion::min_body_bytes - 1,
	                        SharedRegion::min_body_bytes,
	                        size_t{1} << 20,
	                        SharedRegion::area_bytes - 1,
	                        SharedRegion::area_bytes,
	                        SharedRegion::area_bytes + 1,
	                        SharedRegion::area_bytes * 2};
	uint32_t call = 0;
	for (const size_t size : sizes) {
		// Twice each: the second finds the slot holding the first's bytes.
		for (int i = 0; i < 2; ++i) {
			CAPTURE(size);
			CHECK(echoed(connection, body_of(size, 0, ++call)));
		}
	}
	CHECK(host.stop() == 0);
}

TEST_CASE("isolation: more large callers than slots are all served, each its own bytes")
{
	IsolatedHost host({}, isolated_echo);
	constexpr uint32_t callers = SharedRegion::slot_count * 2 + 1;
	constexpr uint32_t calls = 15;
	std::vector<std::future<uint32_t>> results;
	for (uint32_t caller = 0; caller < callers; ++caller)
		results.push_back(std::async(std::launch::async, [&host, caller] {
			drpc::ClientConnection connection(host.socket(), drpc::ClientOptions{.call_timeout = 60s});
			connection.connect();
			uint32_t wrong = 0;
			for (uint32_t call = 0; call < calls; ++call) {
				// Sizes that use the slot and sizes that do not, interleaved.
				const size_t size = call % 3 == 2 ? 1000 : (size_t{1} << 20) - caller * 4096;
				if (!echoed(connection, body_of(size, caller + 1, call)))
					++wrong;
			}
			return wrong;
		}));
	uint32_t wrong = 0;
	for (auto &result : results)
		wrong += result.get();
	CHECK(wrong == 0);
	const auto info = host.module(echo_id);
	REQUIRE(info);
	CHECK(info->crashes() == 0);
	CHECK(host.stop() == 0);
}

TEST_CASE("isolation: the shared region's pages are given back once the host is quiet")
{
	IsolatedHost host({}, isolated_echo);
	// "1234 kB": the region's touched pages, as a process maps them.
	const auto shared_kib_of = [](pid_t pid) { return std::stoull(isolation_test::proc_status(pid, "RssShmem")); };
	const auto shared_kib = [&] { return shared_kib_of(host.pid()); };
	drpc::ClientConnection connection(host.socket(), drpc::ClientOptions{.call_timeout = 30s});
	connection.connect();
	REQUIRE(echoed(connection, "small"));
	const unsigned long long before = shared_kib();
	for (uint32_t call = 0; call < 5; ++call)
		REQUIRE(echoed(connection, body_of(SharedRegion::area_bytes, 7, call)));
	const unsigned long long busy = shared_kib();
	CAPTURE(before);
	CAPTURE(busy);
	// Both of slot 0's areas, full: what the region keeps while busy.
	CHECK(busy >= before + 2 * (SharedRegion::area_bytes >> 10));
	CHECK(isolation_test::eventually([&] { return shared_kib() < before + 256; }));
	const std::vector<pid_t> workers = host.workers();
	REQUIRE(workers.size() == 1);
	CHECK(shared_kib_of(workers[0]) < 256); // the hole is punched in the memfd: gone from both
	// And the slot serves as before, from fresh pages.
	CHECK(echoed(connection, body_of(SharedRegion::area_bytes, 8, 0)));
	CHECK(host.stop() == 0);
}
