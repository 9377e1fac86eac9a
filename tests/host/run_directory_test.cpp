// SPDX-License-Identifier: Apache-2.0
// The run directory: where it is, how it is checked, what the host clears
// from it at start, and drpc-host using it for its socket, as root and as
// another user.
#include "host_process.hpp"
#include "host_support.hpp"

#include <run_directory.hpp>

#include <drpc/error.hpp>

#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using drpc::host::RunDirectory;
using host_test::HostProcess;

namespace {

/// A pid that was a process a moment ago and is gone now.
pid_t dead_pid()
{
	const pid_t child = ::fork();
	REQUIRE(child >= 0);
	if (child == 0)
		::_exit(0);
	::waitpid(child, nullptr, 0);
	return child;
}

/// A runtime directory as a host named it, holding one plugin copy.
std::filesystem::path leftover(const std::filesystem::path &run, pid_t pid, const std::string &suffix = "abc123")
{
	const std::filesystem::path dir = run / ("drpc-host-" + std::to_string(pid) + "-" + suffix);
	std::filesystem::create_directory(dir);
	host_test::write_file(dir / "good.1.so", "copy");
	return dir;
}

} // namespace

TEST_CASE("run directory: /run/drpc for root, $XDG_RUNTIME_DIR/drpc otherwise, never /tmp")
{
	CHECK(drpc::host::default_run_directory(0, nullptr) == "/run/drpc");
	CHECK(drpc::host::default_run_directory(0, "/run/user/0") == "/run/drpc");
	CHECK(drpc::host::default_run_directory(1000, "/run/user/1000") == "/run/user/1000/drpc");
	CHECK_THROWS_WITH_AS((void)drpc::host::default_run_directory(1000, nullptr),
	                     doctest::Contains("XDG_RUNTIME_DIR is not set"), drpc::Error);
	CHECK_THROWS_WITH_AS((void)drpc::host::default_run_directory(1000, "relative"),
	                     doctest::Contains("run_directory"), drpc::Error);
}

TEST_CASE("run directory: created 0755, and refused when another user could write it")
{
	host_test::TempDir dir;
	SUBCASE("made when missing")
	{
		const RunDirectory run(dir / "run");
		struct stat st {};
		REQUIRE(::lstat((dir / "run").c_str(), &st) == 0);
		CHECK(S_ISDIR(st.st_mode));
		CHECK((st.st_mode & 0022) == 0);
		CHECK(st.st_uid == ::geteuid());
	}
	SUBCASE("writable by others")
	{
		std::filesystem::create_directory(dir / "run");
		::chmod((dir / "run").c_str(), 01777);
		CHECK_THROWS_WITH_AS(RunDirectory(dir / "run"),
		                     doctest::Contains("writable by group or others (mode 1777"), drpc::Error);
	}
	SUBCASE("a symbolic link")
	{
		std::filesystem::create_directory(dir / "real");
		std::filesystem::create_directory_symlink(dir / "real", dir / "run");
		CHECK_THROWS_WITH_AS(RunDirectory(dir / "run"), doctest::Contains("is a symbolic link"), drpc::Error);
	}
	SUBCASE("owned by someone else")
	{
		const auto peer = host_test::second_user();
		if (!peer)
			return;
		std::filesystem::create_directory(dir / "run");
		REQUIRE(::chown((dir / "run").c_str(), peer->uid, peer->gid) == 0);
		const std::string owned = "owned by uid " + std::to_string(peer->uid);
		CHECK_THROWS_WITH_AS(RunDirectory(dir / "run"), doctest::Contains(owned.c_str()), drpc::Error);
	}
	SUBCASE("a file")
	{
		host_test::write_file(dir / "run", "");
		CHECK_THROWS_AS(RunDirectory(dir / "run"), drpc::Error);
	}
}

TEST_CASE("run directory: at start only the runtime directories of hosts that are gone are removed")
{
	host_test::LogCapture log;
	host_test::TempDir dir;
	const std::filesystem::path run = dir / "run";
	const RunDirectory directory(run);
	const pid_t gone = dead_pid();

	// A running drpc-host's directory stays. It starts first: its own start
	// clears the run directory too.
	std::filesystem::permissions(dir.path(), std::filesystem::perms(0755));
	std::filesystem::create_directory(dir / "plugins");
	std::filesystem::permissions(dir / "plugins", std::filesystem::perms(0755));
	host_test::write_file(dir / "host.json", R"({"run_directory": "run", "plugins": {"watch": false}})");
	HostProcess live({"--config", (dir / "host.json").string(), "--plugins", (dir / "plugins").string()},
	                 dir / "stderr");
	REQUIRE(live.wait_for_socket(run / "drpc-host.sock"));
	std::filesystem::path live_dir;
	for (const auto &entry : std::filesystem::directory_iterator(run)) {
		if (entry.path().filename().string().starts_with("drpc-host-" + std::to_string(live.pid()) + "-"))
			live_dir = entry.path();
	}
	REQUIRE_FALSE(live_dir.empty());

	const auto stale = leftover(run, gone);
	const auto other_name = run / ("drpc-hostess-" + std::to_string(gone) + "-abc123");
	std::filesystem::create_directory(other_name);
	const auto not_a_suffix = leftover(run, gone, "toolongsuffix");
	const auto symlink = run / ("drpc-host-" + std::to_string(gone) + "-link00");
	std::filesystem::create_directory_symlink(dir.path(), symlink);
	// A dead pid, but something holds the directory locked as a host does:
	// it is removed only once the lock is gone.
	const auto locked = leftover(run, dead_pid(), "locked");
	const int lock_fd = ::open(locked.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	REQUIRE(::flock(lock_fd, LOCK_EX) == 0);
	// Whatever else a user keeps in it stays, and so does the directory.
	const auto with_other_files = leftover(run, gone, "others");
	host_test::write_file(with_other_files / "notes.txt", "mine");

	CHECK(directory.remove_stale_runtime_dirs() == 1);
	CHECK_FALSE(std::filesystem::exists(stale));
	CHECK(std::filesystem::exists(other_name));
	CHECK(std::filesystem::exists(not_a_suffix / "good.1.so"));
	CHECK(std::filesystem::is_symlink(symlink));
	CHECK(std::filesystem::exists(locked / "good.1.so"));
	CHECK(std::filesystem::exists(with_other_files / "notes.txt"));
	CHECK_FALSE(std::filesystem::exists(with_other_files / "good.1.so"));
	CHECK(std::filesystem::exists(live_dir));
	CHECK_FALSE(log.find({"removed the runtime directory of a host that is gone", stale.string()}).empty());

	::close(lock_fd);
	CHECK(directory.remove_stale_runtime_dirs() == 1);
	CHECK_FALSE(std::filesystem::exists(locked));
	CHECK(std::filesystem::exists(live_dir));
}

TEST_CASE("drpc-host: the default socket is in the run directory; a crashed host's copies go at the next start")
{
	host_test::TempDir dir;
	std::filesystem::permissions(dir.path(), std::filesystem::perms(0755));
	std::filesystem::create_directory(dir / "plugins");
	std::filesystem::permissions(dir / "plugins", std::filesystem::perms(0755));
	host_test::install_plugin(dir / "plugins", "good");
	const std::vector<std::string> args = {"--plugins", (dir / "plugins").string()};

	SUBCASE("as another user: $XDG_RUNTIME_DIR/drpc")
	{
		const auto peer = host_test::second_user();
		if (!peer) {
			MESSAGE("skipped: needs root to become a second user");
			return;
		}
		const std::filesystem::path xdg = dir / "xdg";
		std::filesystem::create_directory(xdg);
		REQUIRE(::chown(xdg.c_str(), peer->uid, peer->gid) == 0);
		::chmod(xdg.c_str(), 0700);
		const std::filesystem::path run = xdg / "drpc";
		{
			HostProcess host(args, dir / "stderr",
			                 {.user = peer, .env = {"XDG_RUNTIME_DIR=" + xdg.string()}});
			REQUIRE(host.wait_for_socket(run / "drpc-host.sock"));
			struct stat st {};
			REQUIRE(::lstat(run.c_str(), &st) == 0);
			CHECK(st.st_uid == peer->uid);
			CHECK((st.st_mode & 07777) == 0755);
			// Killed: nothing is cleaned up...
		}
		size_t leftovers = 0;
		for (const auto &entry : std::filesystem::directory_iterator(run))
			leftovers += entry.path().filename().string().starts_with("drpc-host-") ? 1 : 0;
		CHECK(leftovers == 1);
		// ...until the next host starts.
		HostProcess next(args, dir / "stderr2", {.user = peer, .env = {"XDG_RUNTIME_DIR=" + xdg.string()}});
		REQUIRE(next.wait_for_socket(run / "drpc-host.sock"));
		leftovers = 0;
		for (const auto &entry : std::filesystem::directory_iterator(run))
			leftovers += entry.path().filename().string().starts_with("drpc-host-") ? 1 : 0;
		CHECK(leftovers == 1); // its own
		CHECK(host_test::read_file(dir / "stderr2")
		              .find("removed the runtime directory of a host that is gone") != std::string::npos);
	}
	SUBCASE("without XDG_RUNTIME_DIR a user's host refuses to guess")
	{
		const auto peer = host_test::second_user();
		if (!peer)
			return;
		HostProcess host({"--plugins", (dir / "plugins").string()}, dir / "stderr",
		                 {.user = peer, .env = {"XDG_RUNTIME_DIR="}});
		CHECK(host.wait() == 1);
		CHECK(host_test::read_file(dir / "stderr").find("XDG_RUNTIME_DIR is not set") != std::string::npos);
	}
	SUBCASE("a socket in a world-writable directory is refused")
	{
		const std::filesystem::path open_dir = dir / "open";
		std::filesystem::create_directory(open_dir);
		::chmod(open_dir.c_str(), 01777);
		std::vector<std::string> with_socket = args;
		with_socket.insert(with_socket.end(), {"--socket", (open_dir / "drpc.sock").string()});
		HostProcess host(with_socket, dir / "stderr");
		CHECK(host.wait() == 1);
		const std::string log = host_test::read_file(dir / "stderr");
		INFO("stderr: ", log);
		CHECK(log.find("is writable by others (mode 1777)") != std::string::npos);
		CHECK_FALSE(std::filesystem::exists(open_dir / "drpc.sock"));
	}
}
