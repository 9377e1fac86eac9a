// SPDX-License-Identifier: Apache-2.0
// A worker's command line, written by the host and read by the worker (host/isolation/worker_args.hpp).
#include <isolation/worker_args.hpp>

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <vector>

using drpc::host::isolation::WorkerArgs;

namespace {

WorkerArgs round_trip(const WorkerArgs &args)
{
	const std::vector<std::string> argv = args.to_argv();
	REQUIRE(argv.front() == drpc::host::isolation::worker_mode_flag);
	std::vector<const char *> rest;
	for (size_t i = 1; i < argv.size(); ++i)
		rest.push_back(argv[i].c_str());
	return WorkerArgs::parse(rest);
}

} // namespace

TEST_CASE("every setting the host writes, the worker reads back")
{
	const WorkerArgs args{
		.name = "kv",
		.source = "/usr/lib/drpc/plugins/kv.so",
		.generation = 7,
		.parent = 1234,
		.host_uid = 0,
		.uid = 65534,
		.gid = 65534,
		.memory_limit_bytes = uint64_t{64} << 20,
		.sandbox = true,
		.ring_spin = std::chrono::microseconds(0),
		.log_level = 3,
	};
	const WorkerArgs read = round_trip(args);
	CHECK(read.name == "kv");
	CHECK(read.source == args.source);
	CHECK(read.generation == 7);
	CHECK(read.parent == 1234);
	CHECK(read.uid == args.uid);
	CHECK(read.gid == args.gid);
	CHECK(read.memory_limit_bytes == args.memory_limit_bytes);
	CHECK(read.sandbox);
	CHECK(read.ring_spin == std::chrono::microseconds(0));
	CHECK(read.log_level == 3);
}

TEST_CASE("the ring spin's default crosses too, and a bad one is refused by name")
{
	const WorkerArgs read = round_trip(WorkerArgs{.name = "echo", .parent = 1});
	CHECK(read.ring_spin == std::chrono::microseconds(drpc::host::IsolationSettings::default_ring_spin_us));
	const char *bad[] = {"name=echo", "parent=1", "ring-spin-us=lots"};
	CHECK_THROWS_WITH_AS(WorkerArgs::parse(bad), "worker argument ring-spin-us: 'lots' is not a number",
	                     std::invalid_argument);
}
