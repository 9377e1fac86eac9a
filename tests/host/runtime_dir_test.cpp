// SPDX-License-Identifier: Apache-2.0
// The runtime directory: fresh and configured, locked, checked, cleaned.
#include "host_support.hpp"

#include <runtime_dir.hpp>

#include <drpc/error.hpp>

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

using drpc::host::RuntimeDir;

TEST_CASE("runtime dir: a fresh one is private and removed at the end")
{
	std::filesystem::path path;
	{
		const RuntimeDir dir({}, true);
		path = dir.path();
		struct stat st {};
		REQUIRE(::stat(path.c_str(), &st) == 0);
		CHECK((st.st_mode & 07777) == 0700);
		CHECK(path.filename().string().starts_with("drpc-host-" + std::to_string(::getpid()) + "-"));
	}
	CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("runtime dir: copies get unique names and go with their owner")
{
	RuntimeDir dir({}, true);
	drpc::host::RuntimeFile first = dir.create_file("echo", 1);
	drpc::host::RuntimeFile second = dir.create_file("echo", 2);
	CHECK(first.path() == dir.path() / "echo.1.so");
	CHECK(second.path() == dir.path() / "echo.2.so");
	CHECK(first.fd() >= 0);
	CHECK_THROWS_AS((void)dir.create_file("echo", 1), drpc::SystemError);

	drpc::host::RuntimeFile moved = std::move(first);
	CHECK(std::filesystem::exists(moved.path()));
	moved.remove();
	CHECK_FALSE(std::filesystem::exists(dir.path() / "echo.1.so"));
	CHECK(std::filesystem::exists(second.path()));
}

TEST_CASE("runtime dir: a configured one")
{
	host_test::TempDir parent;
	const std::filesystem::path path = parent / "rt";

	SUBCASE("is created, cleaned of stale copies, and removed")
	{
		std::filesystem::create_directory(path);
		std::filesystem::permissions(path, std::filesystem::perms(0700));
		host_test::write_file(path / "old.7.so", "stale");
		{
			const RuntimeDir dir(path, true);
			CHECK_FALSE(std::filesystem::exists(path / "old.7.so"));
		}
		CHECK_FALSE(std::filesystem::exists(path));
	}
	SUBCASE("is locked against a second host")
	{
		const RuntimeDir first(path, true);
		CHECK_THROWS_WITH_AS(RuntimeDir(path, true), doctest::Contains("in use by another drpc-host"),
		                     drpc::Error);
	}
	SUBCASE("must be private with strict permissions")
	{
		std::filesystem::create_directory(path);
		std::filesystem::permissions(path, std::filesystem::perms(0755));
		CHECK_THROWS_WITH_AS(RuntimeDir(path, true), doctest::Contains("open to group or others (mode 0755"),
		                     drpc::Error);
		CHECK_NOTHROW(RuntimeDir(path, false));
	}
	SUBCASE("a missing parent is an error naming the path")
	{
		CHECK_THROWS_WITH_AS(RuntimeDir(parent / "no" / "such", true),
		                     doctest::Contains((parent / "no").c_str()), drpc::SystemError);
	}
}
