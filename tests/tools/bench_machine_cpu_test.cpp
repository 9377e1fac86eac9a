// SPDX-License-Identifier: Apache-2.0
// drpc-bench's reading of /proc/stat (tools/bench/machine_cpu.hpp).
#include "machine_cpu.hpp"

#include <doctest/doctest.h>

using drpc::bench::MachineCpu;

TEST_CASE("the aggregate line: busy, idle with iowait, steal; guest time not counted twice")
{
	const auto cpu = MachineCpu::parse("cpu  100 2 30 400 5 6 7 8 90 1\ncpu0 1 2 3 4 5 6 7 8 0 0\n");
	REQUIRE(cpu);
	CHECK(cpu->busy == 100 + 2 + 30 + 6 + 7);
	CHECK(cpu->idle == 400 + 5);
	CHECK(cpu->steal == 8);
	CHECK(cpu->total() == 558);
}

TEST_CASE("a line that is not the aggregate, or is cut short or garbled, gives nothing")
{
	CHECK_FALSE(MachineCpu::parse(""));
	CHECK_FALSE(MachineCpu::parse("cpu0 1 2 3 4 5 6 7 8\n"));
	CHECK_FALSE(MachineCpu::parse("cpu  1 2 3 4 5 6 7\ncpu0 1 2 3 4 5 6 7 8\n"));
	CHECK_FALSE(MachineCpu::parse("cpu  1 2 3 4x 5 6 7 8\n"));
	CHECK_FALSE(MachineCpu::parse("cpu  1 2 3 -4 5 6 7 8\n"));
}

TEST_CASE("a window's ticks, and rounds added up; a counter that went back counts nothing")
{
	const MachineCpu before{10, 20, 5};
	const MachineCpu after{15, 28, 4};
	const MachineCpu window = after.since(before);
	CHECK(window.busy == 5);
	CHECK(window.idle == 8);
	CHECK(window.steal == 0);
	MachineCpu sum = window;
	sum += MachineCpu{1, 2, 3};
	CHECK(sum.busy == 6);
	CHECK(sum.idle == 10);
	CHECK(sum.steal == 3);
}

TEST_CASE("this machine's /proc/stat reads")
{
	const auto cpu = MachineCpu::now();
	REQUIRE(cpu);
	CHECK(cpu->total() > 0);
}
