// SPDX-License-Identifier: Apache-2.0
// The reload storm against an isolated module: a real drpc-host runs the
// storm plugin in a worker, 8 clients call it without pause while its file
// is replaced 100 times; each reload starts a new worker beside the old one.
// No call may fail, and no worker, descriptor or file may be left behind.
#include "isolation_support.hpp"
#include "reload_support.hpp"

#include <drpc/client.hpp>

#include <doctest/doctest.h>

#include <array>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

constexpr int client_count = 8;
constexpr int reload_count = 100;

} // namespace

TEST_CASE("isolation: 100 reloads of an isolated module under 8 busy clients lose no call, leave no worker")
{
	const std::array<std::string, 2> builds = {host_test::read_file(reload_test::storm_plugin('A')),
	                                           host_test::read_file(reload_test::storm_plugin('B'))};
	isolation_test::IsolatedHost host({}, R"({"storm": {"isolation": "process"}})");
	reload_test::write_bytes(host.plugins_dir() / "storm.so", builds[0]);
	REQUIRE(isolation_test::eventually([&] { return reload_test::storm_answer(host.socket()) == "A"; }));
	REQUIRE(host.workers().size() == 1);
	const size_t fds_before = host.open_fds();

	std::atomic<bool> stop{false};
	std::vector<reload_test::Tally> tallies(client_count);
	int reloads = 0;
	const auto started = std::chrono::steady_clock::now();
	{
		std::vector<std::thread> clients;
		for (int i = 0; i < client_count; ++i)
			clients.emplace_back(reload_test::run_storm_client, std::cref(host.socket()), i,
			                     std::cref(stop), std::ref(tallies[i]));
		reloads = reload_test::storm_reloads(host.plugins_dir(), host.socket(), builds, reload_count);
		stop.store(true);
		for (std::thread &client : clients)
			client.join();
	}
	const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
	uint64_t calls = 0;
	for (const reload_test::Tally &tally : tallies) {
		calls += tally.calls;
		INFO("first failure: ", tally.first_failure);
		CHECK(tally.failures == 0);
	}
	MESSAGE(calls << " calls by " << client_count << " clients across " << reloads << " isolated reloads in "
	              << seconds << " s");
	CHECK(reloads == reload_count);
	const auto info = host.module(reload_test::storm_id);
	REQUIRE(info);
	CHECK(info->isolation() == "process");
	CHECK(info->crashes() == 0);
	// One worker serves; the hundred before it have drained and exited.
	CHECK(isolation_test::eventually([&] { return host.workers().size() == 1; }));
	// The serving worker keeps an idle connection per client that called it
	// at once (a bounded pool); one more quiet reload starts from one again,
	// as before the storm.
	reload_test::write_bytes(host.plugins_dir() / ".storm.so.tmp", builds[1]);
	std::filesystem::rename(host.plugins_dir() / ".storm.so.tmp", host.plugins_dir() / "storm.so");
	REQUIRE(isolation_test::eventually([&] { return reload_test::storm_answer(host.socket()) == "B"; }));
	const bool no_growth = isolation_test::eventually([&] { return host.open_fds() <= fds_before; });
	INFO("descriptors before: ", fds_before, ", after: ", host.open_fds(), "; ", host.fd_targets());
	CHECK(no_growth);
	CHECK(host.log().find(" ERROR ") == std::string::npos);
	CHECK(host.stop() == 0);
}
