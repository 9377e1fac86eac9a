// SPDX-License-Identifier: Apache-2.0
// The host end to end: in-process over a real socket, and the drpc-host
// executable itself (flags, exit statuses, SIGTERM).
#include "host_process.hpp"
#include "host_support.hpp"

#include <host.hpp>

#include <drpc/client.hpp>
#include <drpc/error.hpp>
#include <drpc/server.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace {

using namespace std::chrono_literals;
using host_test::call;
using host_test::HostProcess;

/// A temp dir holding `plugins/` (with the good test plugin) and room for a socket.
struct Setup {
	Setup()
	{
		std::filesystem::create_directory(plugins);
		std::filesystem::permissions(plugins, std::filesystem::perms(0755));
		host_test::install_plugin(plugins, "good");
	}

	[[nodiscard]] drpc::host::HostConfig config() const
	{
		drpc::host::HostConfig config;
		config.socket.path = socket;
		config.plugins.directory = plugins;
		config.server.shutdown_timeout_ms = 5000;
		config.modules["good"] = R"({"from":"config"})";
		return config;
	}

	host_test::TempDir dir;
	std::filesystem::path plugins = dir / "plugins";
	std::filesystem::path socket = dir / "host.sock";
};

} // namespace

TEST_CASE("host: serves a plugin over the socket and shuts down cleanly")
{
	host_test::LogCapture log(drpc::log::Level::info);
	Setup setup;
	std::filesystem::path runtime_dir;
	{
		drpc::host::Host host(setup.config());
		host.start();
		REQUIRE(host.plugins().size() == 1);
		runtime_dir = host.runtime_dir();
		CHECK(std::filesystem::exists(runtime_dir));

		struct stat st {};
		REQUIRE(::stat(setup.socket.c_str(), &st) == 0);
		CHECK(S_ISSOCK(st.st_mode));
		CHECK((st.st_mode & 0777) == 0600);

		const drpc::Response echo = call(setup.socket, 4242, 0, "hello");
		CHECK(echo.status() == drpc::Status::SUCCESS);
		CHECK(echo.body() == "hello");
		CHECK(call(setup.socket, 4242, 1, "").body() == R"({"from":"config"})");
		CHECK(call(setup.socket, 4242, 2, "").status() == drpc::Status::FAILURE);
		CHECK(call(setup.socket, 4242, 9, "").status() == drpc::Status::UNKNOWN_METHOD);
		CHECK(call(setup.socket, 4243, 0, "").status() == drpc::Status::UNKNOWN_MODULE);

		CHECK(host.stop());
		CHECK_FALSE(std::filesystem::exists(setup.socket));
		CHECK_FALSE(std::filesystem::exists(runtime_dir));
	}
	CHECK_FALSE(log.find({"host", "serving 1 module(s) on " + setup.socket.string()}).empty());
	CHECK_FALSE(log.find({"loaded module 4242 (good 1.2.3) from " + (setup.plugins / "good.so").string()}).empty());
	CHECK_FALSE(log.find({"unloaded 1 plugin(s)"}).empty());
	CHECK_FALSE(log.find({"server", "stopped; removed " + setup.socket.string()}).empty());
}

TEST_CASE("host: strict permissions refuse a group-writable plugin; the host still serves")
{
	host_test::LogCapture log;
	Setup setup;
	::chmod((setup.plugins / "good.so").c_str(), 0664);
	drpc::host::Host host(setup.config());
	host.start();
	CHECK(host.plugins().size() == 0);
	CHECK_FALSE(log.find({"refused " + (setup.plugins / "good.so").string(), "writable by group"}).empty());
	CHECK(call(setup.socket, 4242, 0, "x").status() == drpc::Status::UNKNOWN_MODULE);
}

TEST_CASE("host: cannot start without its plugins directory, and leaves nothing behind")
{
	host_test::LogCapture log;
	Setup setup;
	drpc::host::HostConfig config = setup.config();
	config.plugins.directory = setup.dir / "missing";
	drpc::host::Host host(config);
	CHECK_THROWS_WITH_AS(host.start(), doctest::Contains((setup.dir / "missing").c_str()), drpc::Error);
	CHECK_FALSE(std::filesystem::exists(setup.socket));
	CHECK(host.stop());
}

TEST_CASE("host: a live socket is not taken over")
{
	host_test::LogCapture log;
	Setup setup;
	drpc::host::Host first(setup.config());
	first.start();
	const size_t loads = log.lines().size();
	drpc::host::Host second(setup.config());
	CHECK_THROWS_WITH_AS(second.start(), doctest::Contains("socket in use"), drpc::Error);
	// It failed before loading anything: not one plugins line after the first host's.
	const std::vector<std::string> lines = log.lines();
	for (size_t i = loads; i < lines.size(); ++i)
		CHECK(lines[i].find("plugins:") == std::string::npos);
	CHECK(call(setup.socket, 4242, 0, "still first").body() == "still first");
}

TEST_CASE("host: a socket file replaced by someone else is left alone, and the log says so")
{
	host_test::LogCapture log(drpc::log::Level::info);
	Setup setup;
	drpc::host::Host host(setup.config());
	host.start();
	// Another server's socket renamed over ours (as a newer host would).
	const std::filesystem::path other = setup.dir / "other.sock";
	drpc::DomainSocketServer newer(other, 0600);
	newer.start();
	std::filesystem::rename(other, setup.socket);
	CHECK(host.stop());
	CHECK(std::filesystem::is_socket(setup.socket));
	CHECK(log.find({"stopped; removed"}).empty());
	CHECK_FALSE(
		log.find({"server", "stopped; left " + setup.socket.string() + ": another file replaced our socket"})
			.empty());
	newer.shutdown();
}

TEST_CASE("drpc-host: usage, version and exit statuses")
{
	host_test::TempDir dir;
	const std::filesystem::path err = dir / "stderr";
	SUBCASE("--help")
	{
		HostProcess process({"--help"}, err);
		CHECK(process.wait() == 0);
	}
	SUBCASE("--version")
	{
		HostProcess process({"--version"}, err);
		CHECK(process.wait() == 0);
	}
	SUBCASE("a bad flag exits 2 with a clear message")
	{
		HostProcess process({"--plugin", "x"}, err);
		CHECK(process.wait() == 2);
		CHECK(host_test::read_file(err).find("unknown option '--plugin'") != std::string::npos);
	}
	SUBCASE("a bad config exits 1 naming the key")
	{
		host_test::write_file(dir / "bad.json", R"({"limits": {"max_message_bytes": "big"}})");
		HostProcess process({"--config", (dir / "bad.json").string()}, err);
		CHECK(process.wait() == 1);
		CHECK(host_test::read_file(err).find("limits.max_message_bytes: expected an unsigned integer") !=
		      std::string::npos);
	}
}

TEST_CASE("drpc-host: serves until SIGTERM, then removes its socket and exits 0")
{
	Setup setup;
	host_test::write_file(setup.dir / "host.json", R"({
		"socket": {"path": "host.sock"},
		"server": {"shutdown_timeout_ms": 5000},
		"modules": {"good": {"answer": 42}}
	})");
	const std::filesystem::path err = setup.dir / "stderr";
	HostProcess process({"--config", (setup.dir / "host.json").string(), "--plugins", setup.plugins.string()}, err);
	REQUIRE(process.wait_for_socket(setup.socket));

	const drpc::Response echo = call(setup.socket, 4242, 0, "over the wire");
	CHECK(echo.status() == drpc::Status::SUCCESS);
	CHECK(echo.body() == "over the wire");
	CHECK(call(setup.socket, 4242, 1, "").body() == R"({"answer":42})");

	process.signal(SIGTERM);
	CHECK(process.wait() == 0);
	CHECK_FALSE(std::filesystem::exists(setup.socket));
	const std::string log = host_test::read_file(err);
	INFO("stderr: ", log);
	CHECK(log.find("loaded module 4242 (good 1.2.3)") != std::string::npos);
	CHECK(log.find("received SIGTERM") != std::string::npos);
	CHECK(log.find("unloaded 1 plugin(s)") != std::string::npos);
}
