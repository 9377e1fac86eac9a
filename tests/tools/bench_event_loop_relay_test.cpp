// SPDX-License-Identifier: Apache-2.0
// drpc-bench's event-loop relay reference (tools/bench/event_loop_relay.hpp):
// each client's records come back to it alone, whatever the others do.
#include "event_loop_relay.hpp"
#include "floor_server.hpp"
#include "seqpacket.hpp"
#include "temp_dir.hpp"

#include <doctest/doctest.h>

#include <string>
#include <sys/socket.h>
#include <sys/time.h>
#include <vector>

using drpc::bench::EventLoopRelay;
using drpc::bench::FloorServer;

namespace {

/// A client that gives up on an echo after 5 s: a lost or misrouted echo
/// fails the test instead of hanging it.
drpc::UniqueFd connect(const std::filesystem::path &socket)
{
	drpc::UniqueFd fd = drpc::bench::connect_seqpacket(socket);
	const timeval patience{5, 0};
	REQUIRE(::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof(patience)) == 0);
	return fd;
}

std::string round_trip(int fd, const std::string &record)
{
	drpc::bench::send_record(fd, record.data(), record.size(), "test send");
	std::string echo(drpc::bench::floor_record_size, '\0');
	echo.resize(drpc::bench::receive_record(fd, echo.data(), echo.size(), "test receive"));
	return echo;
}

} // namespace

TEST_CASE("several clients, each answered with its own records")
{
	const drpc::bench::TempDir dir("drpc-test-relay");
	FloorServer far_end(dir.path() / "far.sock");
	EventLoopRelay relay(dir.path() / "relay.sock", dir.path() / "far.sock");
	std::vector<drpc::UniqueFd> clients;
	for (int i = 0; i < 4; ++i)
		clients.push_back(connect(dir.path() / "relay.sock"));
	for (int round = 0; round < 50; ++round)
		for (size_t i = 0; i < clients.size(); ++i) {
			const std::string record = "client " + std::to_string(i) + " round " + std::to_string(round);
			CHECK(round_trip(clients[i].get(), record) == record);
		}
}

TEST_CASE("a client that leaves, or sends a record too long to tag, costs the others nothing")
{
	const drpc::bench::TempDir dir("drpc-test-relay");
	FloorServer far_end(dir.path() / "far.sock");
	EventLoopRelay relay(dir.path() / "relay.sock", dir.path() / "far.sock");
	drpc::UniqueFd stays = connect(dir.path() / "relay.sock");
	CHECK(round_trip(stays.get(), "before") == "before");
	{
		drpc::UniqueFd leaves = connect(dir.path() / "relay.sock");
		CHECK(round_trip(leaves.get(), "once") == "once");
	}
	drpc::UniqueFd too_long = connect(dir.path() / "relay.sock");
	const std::string full(drpc::bench::floor_record_size, 'x');
	drpc::bench::send_record(too_long.get(), full.data(), full.size(), "test send");
	char byte;
	// Closed by the relay, not answered.
	CHECK(drpc::bench::receive_record(too_long.get(), &byte, sizeof(byte), "test receive") == 0);
	// A newcomer after those two is served, and so is the one that stayed.
	drpc::UniqueFd newcomer = connect(dir.path() / "relay.sock");
	CHECK(round_trip(newcomer.get(), "new") == "new");
	CHECK(round_trip(stays.get(), "after") == "after");
	relay.stop();
	CHECK_FALSE(std::filesystem::exists(dir.path() / "relay.sock"));
}
