// SPDX-License-Identifier: Apache-2.0
// The proof under load: clients call the storm module without pause while its
// plugin file is replaced a hundred times through the watched directory. No
// call may fail, and nothing may be left behind: mappings, runtime copies,
// descriptors.
#include "reload_support.hpp"

#include <drpc/client.hpp>
#include <drpc/error.hpp>
#include <drpc/status.hpp>

#include <doctest/doctest.h>

#include <array>
#include <vector>

using namespace std::chrono_literals;

namespace {

constexpr int client_count = 8;
constexpr int reload_count = 100;

/// Waits until the server has closed every session (they close on their own
/// threads once their clients have gone).
bool sessions_closed(drpc::host::Host &host)
{
	return reload_test::eventually([&] { return host.server().stats().sessions_open == 0; });
}

} // namespace

TEST_CASE("reload storm: 100 reloads under 8 busy clients lose no call and leave nothing behind")
{
	host_test::LogCapture log(drpc::log::Level::info);
	reload_test::HostDirs dirs;
	const std::array<std::string, 2> builds = {host_test::read_file(reload_test::storm_plugin('A')),
	                                           host_test::read_file(reload_test::storm_plugin('B'))};
	reload_test::write_bytes(dirs.plugins / "storm.so", builds[0]);
	size_t refusals = 0;
	SUBCASE("alone") {}
	SUBCASE("after a plugin needing the full protobuf runtime was refused beside it")
	{
		// Mapping it is what would abort the process at the next reload.
		host_test::install_plugin(dirs.plugins, "full_protobuf");
		refusals = 1;
	}
	drpc::host::Host host(dirs.config(true));
	host.start();
	REQUIRE(host.plugins().failures().size() == refusals);
	REQUIRE(reload_test::storm_answer(dirs.socket) == "A");
	const std::filesystem::path runtime = host.runtime_dir();
	REQUIRE(sessions_closed(host));
	const size_t fds_before = reload_test::open_fd_count();

	std::atomic<bool> stop{false};
	std::vector<reload_test::Tally> tallies(client_count);
	int reloads = 0;
	const auto started = std::chrono::steady_clock::now();
	{
		const reload_test::EventLoop loop(host);
		std::vector<std::thread> clients;
		for (int i = 0; i < client_count; ++i)
			clients.emplace_back(reload_test::run_storm_client, std::cref(dirs.socket), i, std::cref(stop),
			                     std::ref(tallies[i]));

		reloads = reload_test::storm_reloads(dirs.plugins, dirs.socket, builds, reload_count);
		stop.store(true);
		for (std::thread &client : clients)
			client.join();
		CHECK(loop.error().empty());
	}
	const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

	uint64_t calls = 0;
	uint64_t failures = 0;
	for (const reload_test::Tally &tally : tallies) {
		calls += tally.calls;
		failures += tally.failures;
		INFO("first failure: ", tally.first_failure);
		CHECK(tally.failures == 0);
	}
	MESSAGE(calls << " calls by " << client_count << " clients across " << reloads << " reloads in " << seconds
	              << " s; " << failures << " failed");
	CHECK(reloads == reload_count);
	CHECK(calls > 0);
	CHECK(reload_test::count_lines(log, {"reloaded module 4300", "state handed over"}) ==
	      static_cast<size_t>(reload_count));
	CHECK(reload_test::count_lines(log, {" ERROR "}) == refusals);
	CHECK(reload_test::count_lines(log, {" ERROR ", "full_protobuf.so: needs libprotobuf.so"}) == refusals);

	// One build serves; the ninety-nine before it are unloaded and gone.
	CHECK(host.plugins().list().size() == 1);
	CHECK(reload_test::mapped_under(runtime).size() == 1);
	CHECK(reload_test::entry_count(runtime) == 1);
	REQUIRE(sessions_closed(host));
	CHECK(reload_test::open_fd_count() <= fds_before);
}
