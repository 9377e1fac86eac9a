// SPDX-License-Identifier: Apache-2.0
// Hot reload end to end: a real host over a real plugins directory, plugin
// files changed the ways people and deploy tools change them, calls over the
// real socket. The storm plugin's builds answer "A" or "B", which tells which
// build served a call.
#include "reload_support.hpp"

#include "kv.pb.h"

#include <drpc/status.hpp>

#include <doctest/doctest.h>

#include <csignal>
#include <fcntl.h>
#include <future>
#include <pthread.h>
#include <sys/signalfd.h>
#include <unistd.h>

using namespace std::chrono_literals;
using reload_test::listed;
using reload_test::pump_until;
using reload_test::storm_answer;
using reload_test::storm_id;
using reload_test::storm_plugin;

namespace {

/// The plugins directory of `dirs` with storm.so as build A.
void install_storm_a(const reload_test::HostDirs &dirs)
{
	reload_test::write_bytes(dirs.plugins / "storm.so", host_test::read_file(storm_plugin('A')));
}

/// Waits for storm to answer `letter`, running the host's loop meanwhile.
bool storm_turns(drpc::host::Host &host, const reload_test::HostDirs &dirs, const std::string &letter)
{
	return pump_until(host, [&] { return storm_answer(dirs.socket) == letter; });
}

/// A call to storm's method 1, which sleeps `milliseconds` inside the plugin.
std::future<drpc::Response> slow_call(const reload_test::HostDirs &dirs, int milliseconds)
{
	return std::async(std::launch::async, [socket = dirs.socket, milliseconds] {
		return reload_test::call(socket, storm_id, reload_test::storm_sleep_method,
		                         std::to_string(milliseconds));
	});
}

void write_all(int fd, std::string_view bytes)
{
	while (!bytes.empty()) {
		const ssize_t put = ::write(fd, bytes.data(), bytes.size());
		REQUIRE(put > 0);
		bytes.remove_prefix(static_cast<size_t>(put));
	}
}

/// SIGHUP blocked in this thread and readable from a signalfd, as drpc-host has it.
class HangupSignal {
public:
	HangupSignal()
	{
		sigemptyset(&set_);
		sigaddset(&set_, SIGHUP);
		REQUIRE(::pthread_sigmask(SIG_BLOCK, &set_, nullptr) == 0);
		fd_ = ::signalfd(-1, &set_, SFD_CLOEXEC | SFD_NONBLOCK);
		REQUIRE(fd_ >= 0);
	}
	~HangupSignal()
	{
		::close(fd_);
		::pthread_sigmask(SIG_UNBLOCK, &set_, nullptr);
	}
	HangupSignal(const HangupSignal &) = delete;
	HangupSignal &operator=(const HangupSignal &) = delete;

	/// Sends SIGHUP to this thread only: other threads do not block it.
	void raise() const { REQUIRE(::pthread_kill(::pthread_self(), SIGHUP) == 0); }
	[[nodiscard]] int fd() const noexcept { return fd_; }

private:
	sigset_t set_{};
	int fd_ = -1;
};

} // namespace

TEST_CASE("hot reload: a plugin put into the watched directory is served")
{
	host_test::LogCapture log(drpc::log::Level::info);
	reload_test::HostDirs dirs;
	drpc::host::Host host(dirs.config(true));
	host.start();
	REQUIRE(storm_answer(dirs.socket) == "UNKNOWN_MODULE");
	const std::string bytes = host_test::read_file(storm_plugin('A'));

	SUBCASE("written in place and closed") { reload_test::write_bytes(dirs.plugins / "storm.so", bytes); }
	SUBCASE("renamed in from another directory")
	{
		reload_test::write_bytes(dirs.staging / "storm.so", bytes);
		std::filesystem::rename(dirs.staging / "storm.so", dirs.plugins / "storm.so");
	}
	SUBCASE("hard-linked in (no file is closed in the directory)")
	{
		reload_test::write_bytes(dirs.staging / "storm.so", bytes);
		std::filesystem::create_hard_link(dirs.staging / "storm.so", dirs.plugins / "storm.so");
	}
	CHECK(storm_turns(host, dirs, "A"));
	CHECK(reload_test::count_lines(log, {"loaded module 4300 (storm 1.0.A)"}) == 1);
}

TEST_CASE("hot reload: replacing a plugin file switches calls to the new build, in one reload")
{
	host_test::LogCapture log(drpc::log::Level::info);
	reload_test::HostDirs dirs;
	install_storm_a(dirs);
	drpc::host::Host host(dirs.config(true));
	host.start();
	REQUIRE(storm_answer(dirs.socket) == "A");
	const std::string b = host_test::read_file(storm_plugin('B'));
	const std::filesystem::path storm = dirs.plugins / "storm.so";
	bool renamed = false;

	SUBCASE("renamed over it")
	{
		reload_test::install_by_rename(storm_plugin('B'), dirs.plugins, "storm.so");
		renamed = true;
	}
	SUBCASE("overwritten in place") { reload_test::write_bytes(storm, b); }
	SUBCASE("overwritten in a burst of small writes and closes")
	{
		// The loop looks at the directory between writes, as it would while
		// a slow copy runs; only the complete file may be swapped in.
		const reload_test::QuietFd quiet;
		const size_t chunk = b.size() / 16 + 1;
		for (size_t offset = 0; offset < b.size(); offset += chunk) {
			const int fd = ::open(storm.c_str(), O_WRONLY | O_CLOEXEC | (offset == 0 ? O_TRUNC : O_APPEND));
			REQUIRE(fd >= 0);
			write_all(fd, std::string_view(b).substr(offset, chunk));
			::close(fd);
			(void)host.run_once(quiet.get(), 0ms);
		}
	}
	CHECK(storm_turns(host, dirs, "B"));
	reload_test::pump_for(host, 200ms); // anything else the watcher saw has settled by now
	CHECK(storm_answer(dirs.socket) == "B");
	if (renamed)
		CHECK_FALSE(log.find({"ignoring " + (dirs.plugins / ".storm.so.tmp").string(), "hidden"}).empty());
	CHECK(reload_test::count_lines(log, {"reloaded module 4300 (storm 1.0.B)", "state handed over"}) == 1);
	CHECK(reload_test::count_lines(log, {"reloaded module"}) == 1);
	const auto serving = listed(host, storm_id);
	REQUIRE(serving);
	CHECK(serving->version == "1.0.B");
	CHECK(serving->last_load_error.empty());
	// The old build is gone, not left listed (as draining or pinned), mapped or on disk.
	CHECK(host.plugins().list().size() == 1);
	CHECK_FALSE(listed(host, storm_id, drpc::host::ModuleState::pinned));
	CHECK(reload_test::mapped_under(host.runtime_dir()).size() == 1);
	CHECK(reload_test::entry_count(host.runtime_dir()) == 1);
}

TEST_CASE("hot reload: a plugin file still open for writing is not loaded until it is closed")
{
	host_test::LogCapture log(drpc::log::Level::info);
	reload_test::HostDirs dirs;
	drpc::host::Host host(dirs.config(true));
	host.start();
	const std::string bytes = host_test::read_file(storm_plugin('B'));
	const std::filesystem::path storm = dirs.plugins / "storm.so";

	const int fd = ::open(storm.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	REQUIRE(fd >= 0);
	write_all(fd, std::string_view(bytes).substr(0, bytes.size() / 2));
	reload_test::pump_for(host, 300ms);
	CHECK(host.plugins().size() == 0);
	CHECK(host.plugins().failures().empty());
	CHECK(storm_answer(dirs.socket) == "UNKNOWN_MODULE");

	write_all(fd, std::string_view(bytes).substr(bytes.size() / 2));
	::close(fd);
	CHECK(storm_turns(host, dirs, "B"));
	CHECK(log.find({"refused /"}).empty());
}

TEST_CASE("hot reload: a plugin linked straight into the watched directory, 20 times: no error, one reload each")
{
	// What a linker does (g++ ... -o plugins/storm.so): open the output with
	// O_CREAT|O_TRUNC (after unlinking it, or over the same inode), then
	// write it in pieces with pauses longer than the watcher's settle time.
	host_test::LogCapture log(drpc::log::Level::info);
	reload_test::HostDirs dirs;
	install_storm_a(dirs);
	drpc::host::Host host(dirs.config(true));
	host.start();
	REQUIRE(storm_answer(dirs.socket) == "A");
	const std::filesystem::path storm = dirs.plugins / "storm.so";
	const reload_test::QuietFd quiet;
	constexpr int links = 20;
	for (int i = 0; i < links; ++i) {
		const char build = i % 2 == 0 ? 'B' : 'A';
		const std::string bytes = host_test::read_file(storm_plugin(build));
		if (i % 4 >= 2)
			std::filesystem::remove(storm);
		const int fd = ::open(storm.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
		REQUIRE(fd >= 0);
		const size_t chunk = bytes.size() / 3 + 1;
		for (size_t offset = 0; offset < bytes.size(); offset += chunk) {
			// The first pause comes before any byte is written, as a
			// linker resolving symbols; each outlasts the settle time.
			reload_test::pump_for(host, 60ms);
			write_all(fd, std::string_view(bytes).substr(offset, chunk));
		}
		reload_test::pump_for(host, 60ms);
		::close(fd);
		CHECK(storm_turns(host, dirs, std::string(1, build)));
	}
	reload_test::pump_for(host, 200ms);
	CHECK(reload_test::count_lines(log, {"ERROR"}) == 0);
	CHECK(reload_test::count_lines(log, {"reloaded module 4300"}) == links);
	const auto serving = listed(host, storm_id);
	REQUIRE(serving);
	CHECK(serving->generation == 1 + links);
}

TEST_CASE("hot reload: temporary, hidden and non-plugin files are ignored")
{
	host_test::LogCapture log(drpc::log::Level::info);
	reload_test::HostDirs dirs;
	drpc::host::Host host(dirs.config(true));
	host.start();
	const std::string bytes = host_test::read_file(storm_plugin('A'));
	const std::vector<std::string> ignored = {
		".storm.so",  ".storm.so.tmp", "storm.so.tmp",  "storm.so~",
		"#storm.so#", "storm.so.swp",  "storm.so.part", "storm.txt",
	};
	for (const std::string &name : ignored)
		reload_test::write_bytes(dirs.plugins / name, bytes);
	// One real plugin, written last: once it serves, the others were seen.
	reload_test::write_bytes(dirs.plugins / "storm.so", bytes);
	CHECK(storm_turns(host, dirs, "A"));
	reload_test::pump_for(host, 200ms);

	CHECK(host.plugins().size() == 1);
	CHECK(reload_test::count_lines(log, {"loaded module"}) == 1);
	CHECK(log.find({"refused /"}).empty());
	for (const std::string &name : ignored) {
		INFO("file: ", name);
		CHECK_FALSE(log.find({"ignoring " + (dirs.plugins / name).string()}).empty());
	}
}

TEST_CASE("hot reload: a rescan ignores the names the watcher ignores")
{
	// Otherwise what serves depends on whether the host watched the file
	// arrive or found it at start or on SIGHUP.
	host_test::LogCapture log(drpc::log::Level::info);
	reload_test::HostDirs dirs;
	drpc::host::Host host(dirs.config(true));
	host.start();
	reload_test::write_bytes(dirs.plugins / "storm.new.so", host_test::read_file(storm_plugin('A')));
	reload_test::pump_for(host, 200ms);
	REQUIRE_FALSE(log.find({"ignoring " + (dirs.plugins / "storm.new.so").string()}).empty());
	REQUIRE(host.plugins().size() == 0);

	host.plugins().rescan();
	CHECK(host.plugins().size() == 0);
	CHECK(storm_answer(dirs.socket) == "UNKNOWN_MODULE");
}

TEST_CASE("hot reload: a plugin whose file goes away is unloaded once its calls have finished")
{
	host_test::LogCapture log(drpc::log::Level::info);
	reload_test::HostDirs dirs;
	install_storm_a(dirs);
	drpc::host::Host host(dirs.config(true));
	host.start();
	const std::filesystem::path runtime = host.runtime_dir();
	auto slow = slow_call(dirs, 700);
	REQUIRE(reload_test::wait_for_sleeping_threads(1));

	SUBCASE("deleted") { std::filesystem::remove(dirs.plugins / "storm.so"); }
	SUBCASE("renamed away") { std::filesystem::rename(dirs.plugins / "storm.so", dirs.staging / "storm.so"); }
	CHECK(pump_until(host, [&] { return storm_answer(dirs.socket) == "UNKNOWN_MODULE"; }));
	const drpc::Response finished = slow.get();
	CHECK(finished.status() == drpc::Status::SUCCESS);
	CHECK(finished.body() == "A700");
	CHECK(host.plugins().list().empty());
	CHECK(reload_test::mapped_under(runtime).empty());
	CHECK(reload_test::entry_count(runtime) == 0);
	CHECK_FALSE(log.find({(dirs.plugins / "storm.so").string() + " was removed"}).empty());
}

TEST_CASE("hot reload: without watching, SIGHUP rescans: new files load, changed ones reload, gone ones unload")
{
	host_test::LogCapture log(drpc::log::Level::info);
	reload_test::HostDirs dirs;
	host_test::install_plugin(dirs.plugins, "good");
	install_storm_a(dirs);
	reload_test::write_bytes(dirs.plugins / "kv.so", host_test::read_file(reload_test::example_plugin("kv")));
	drpc::host::Host host(dirs.config(false));
	host.start();
	REQUIRE(host.plugins().size() == 3);

	reload_test::install_by_rename(storm_plugin('B'), dirs.plugins, "storm.so");
	std::filesystem::remove(dirs.plugins / "kv.so");
	reload_test::write_bytes(dirs.plugins / "echo.so", host_test::read_file(reload_test::example_plugin("echo")));
	reload_test::pump_for(host, 200ms);
	REQUIRE(storm_answer(dirs.socket) == "A"); // nothing happens until asked
	REQUIRE(host.plugins().size() == 3);

	SUBCASE("PluginManager::rescan()") { host.plugins().rescan(); }
	SUBCASE("SIGHUP through the event loop")
	{
		const HangupSignal hangup;
		hangup.raise();
		CHECK_FALSE(host.run_once(hangup.fd(), 10s));
		CHECK_FALSE(log.find({"received SIGHUP"}).empty());
	}
	CHECK(storm_answer(dirs.socket) == "B");
	CHECK(reload_test::call(dirs.socket, 1001, 1, "").status() == drpc::Status::UNKNOWN_MODULE);
	const drpc::Response echo = reload_test::call(dirs.socket, 1000, 0, "hi");
	CHECK(echo.status() == drpc::Status::SUCCESS);
	CHECK(echo.body() == "hi");
	CHECK(host.plugins().size() == 3);
	REQUIRE(listed(host, 4242));
	CHECK(listed(host, 4242)->generation == 1);
	CHECK(reload_test::count_lines(log, {"reloaded module 4242"}) == 0);
	CHECK(reload_test::count_lines(log, {"reloaded module 4300"}) == 1);
	CHECK(reload_test::entry_count(host.runtime_dir()) == 3);
}

TEST_CASE("hot reload: a broken replacement leaves the old build serving and says why")
{
	struct Broken {
		const char *what;
		std::string plugin;
		std::string error;
	};
	const std::vector<Broken> table = {
		{"wrong ABI version", "wrong_abi", "plugin ABI version 999"},
		{"create() throws", "throwing", "out of cheese"},
		{"claims a module ID another file serves", "twin", "module ID 4242 is already served by"},
	};
	host_test::LogCapture log(drpc::log::Level::info);
	reload_test::HostDirs dirs;
	host_test::install_plugin(dirs.plugins, "good");
	install_storm_a(dirs);
	drpc::host::Host host(dirs.config(true));
	host.start();
	REQUIRE(storm_answer(dirs.socket) == "A");

	for (const Broken &broken : table) {
		SUBCASE(broken.what)
		{
			reload_test::install_by_rename(host_test::test_plugin(broken.plugin), dirs.plugins, "storm.so");
			REQUIRE(pump_until(host, [&] {
				const auto storm = listed(host, storm_id);
				return storm && !storm->last_load_error.empty();
			}));
			const auto kept = listed(host, storm_id);
			INFO("last_load_error: ", kept->last_load_error);
			CHECK(kept->last_load_error.find(broken.error) != std::string::npos);
			CHECK(kept->version == "1.0.A");
			CHECK(storm_answer(dirs.socket) == "A");
			CHECK(reload_test::call(dirs.socket, 4242, 0, "still").body() == "still");
			CHECK_FALSE(log.find({"reload refused", "storm 1.0.A", "keeps serving"}).empty());
			CHECK(reload_test::entry_count(host.runtime_dir()) == 2);

			reload_test::install_by_rename(storm_plugin('B'), dirs.plugins, "storm.so");
			CHECK(storm_turns(host, dirs, "B"));
			REQUIRE(listed(host, storm_id));
			CHECK(listed(host, storm_id)->last_load_error.empty());
			CHECK(listed(host, storm_id)->generation == 2); // the refused build used none up
			CHECK(reload_test::mapped_under(host.runtime_dir()).size() == 2);
		}
	}
}

TEST_CASE("hot reload: a call in flight finishes on the old build; calls after the swap go to the new one")
{
	host_test::LogCapture log(drpc::log::Level::info);
	reload_test::HostDirs dirs;
	install_storm_a(dirs);
	drpc::host::Host host(dirs.config(true));
	host.start();
	auto slow = slow_call(dirs, 500);
	REQUIRE(reload_test::wait_for_sleeping_threads(1));
	{
		const reload_test::EventLoop loop(host);
		reload_test::install_by_rename(storm_plugin('B'), dirs.plugins, "storm.so");
		CHECK(reload_test::eventually([&] { return storm_answer(dirs.socket) == "B"; }));
		const drpc::Response finished = slow.get();
		CHECK(finished.status() == drpc::Status::SUCCESS);
		CHECK(finished.body() == "A500");
		CHECK(loop.error().empty());
	}
	CHECK_FALSE(log.find({"reloaded module 4300 (storm 1.0.B)", "state handed over"}).empty());
	CHECK(host.plugins().list().size() == 1);
	CHECK(reload_test::mapped_under(host.runtime_dir()).size() == 1);
}

TEST_CASE("hot reload: past the drain timeout a retired build is listed as draining, then unmapped")
{
	host_test::LogCapture log(drpc::log::Level::info);
	reload_test::HostDirs dirs;
	install_storm_a(dirs);
	drpc::host::Host host(dirs.config(true, 50));
	host.start();
	const std::filesystem::path runtime = host.runtime_dir();
	const auto first = listed(host, storm_id);
	REQUIRE(first);
	const std::string copy = (runtime / ("storm." + std::to_string(first->generation) + ".so")).string();
	REQUIRE(reload_test::mapped_under(runtime).contains(copy));
	auto slow = slow_call(dirs, 1200);
	REQUIRE(reload_test::wait_for_sleeping_threads(1));

	SUBCASE("unloaded: its file was removed")
	{
		std::filesystem::remove(dirs.plugins / "storm.so");
		REQUIRE(pump_until(
			host, [&] { return listed(host, storm_id, drpc::host::ModuleState::draining).has_value(); }));
	}
	SUBCASE("replaced by a build without state handoff, under another module ID")
	{
		reload_test::install_by_rename(reload_test::example_plugin("echo"), dirs.plugins, "storm.so");
		REQUIRE(pump_until(
			host, [&] { return listed(host, storm_id, drpc::host::ModuleState::draining).has_value(); }));
		CHECK(reload_test::call(dirs.socket, 1000, 0, "echo").body() == "echo");
	}
	CHECK(storm_answer(dirs.socket) == "UNKNOWN_MODULE");
	CHECK(reload_test::mapped_under(runtime).contains(copy)); // its code still runs

	const drpc::Response finished = slow.get();
	CHECK(finished.status() == drpc::Status::SUCCESS);
	CHECK(finished.body() == "A1200");
	CHECK(pump_until(host, [&] { return !listed(host, storm_id, drpc::host::ModuleState::draining); }));
	CHECK_FALSE(log.find({"module 4300 generation 1 has drained"}).empty());
	CHECK_FALSE(listed(host, storm_id, drpc::host::ModuleState::pinned));
	CHECK_FALSE(reload_test::mapped_under(runtime).contains(copy));
	CHECK_FALSE(std::filesystem::exists(copy));
}

TEST_CASE("hot reload: a build handing state over is not swapped in while an old call outlives the drain timeout")
{
	host_test::LogCapture log(drpc::log::Level::info);
	reload_test::HostDirs dirs;
	install_storm_a(dirs);
	drpc::host::Host host(dirs.config(true, 50));
	host.start();
	auto slow = slow_call(dirs, 1500);
	REQUIRE(reload_test::wait_for_sleeping_threads(1));

	reload_test::install_by_rename(storm_plugin('B'), dirs.plugins, "storm.so");
	REQUIRE(pump_until(host, [&] {
		const auto storm = listed(host, storm_id);
		return storm && !storm->last_load_error.empty();
	}));
	CHECK(listed(host, storm_id)->last_load_error.find("still running") != std::string::npos);
	CHECK(storm_answer(dirs.socket) == "A");
	CHECK(slow.get().body() == "A1500");

	// The new build is still on disk: the next rescan (SIGHUP) swaps it in.
	host.plugins().rescan();
	CHECK(storm_answer(dirs.socket) == "B");
	REQUIRE(listed(host, storm_id));
	CHECK(listed(host, storm_id)->last_load_error.empty());
	CHECK(reload_test::entry_count(host.runtime_dir()) == 1);
}

TEST_CASE("hot reload: state is handed from one build to the next")
{
	host_test::LogCapture log(drpc::log::Level::info);
	reload_test::HostDirs dirs;

	SUBCASE("the good test plugin's call count")
	{
		host_test::install_plugin(dirs.plugins, "good");
		drpc::host::Host host(dirs.config(true));
		host.start();
		for (int i = 0; i < 3; ++i)
			REQUIRE(reload_test::call(dirs.socket, 4242, 0, "x").status() == drpc::Status::SUCCESS);
		reload_test::install_by_rename(host_test::test_plugin("good"), dirs.plugins, "good.so");
		REQUIRE(pump_until(host, [&] { return listed(host, 4242) && listed(host, 4242)->generation == 2; }));
		CHECK(reload_test::call(dirs.socket, 4242, 3, "").body() == "calls=3");
	}
	SUBCASE("the kv plugin's data")
	{
		const std::filesystem::path kv = reload_test::example_plugin("kv");
		reload_test::write_bytes(dirs.plugins / "kv.so", host_test::read_file(kv));
		drpc::host::Host host(dirs.config(true));
		host.start();
		kv::PutRequest put;
		put.set_key("colour");
		put.set_value("blue");
		REQUIRE(reload_test::call(dirs.socket, 1001, 0, put.SerializeAsString()).status() ==
		        drpc::Status::SUCCESS);
		reload_test::install_by_rename(kv, dirs.plugins, "kv.so");
		REQUIRE(pump_until(host, [&] { return listed(host, 1001) && listed(host, 1001)->generation == 2; }));

		kv::GetRequest get;
		get.set_key("colour");
		const drpc::Response answer = reload_test::call(dirs.socket, 1001, 1, get.SerializeAsString());
		REQUIRE(answer.status() == drpc::Status::SUCCESS);
		kv::GetResponse value;
		REQUIRE(value.ParseFromString(answer.body()));
		CHECK(value.found());
		CHECK(value.value() == "blue");
	}
	CHECK_FALSE(log.find({"reloaded module", "state handed over"}).empty());
}

TEST_CASE("hot reload: a plugin the dynamic loader keeps mapped is listed as pinned after unloading")
{
	host_test::LogCapture log(drpc::log::Level::info);
	reload_test::HostDirs dirs;
	host_test::install_plugin(dirs.plugins, "pinned");
	drpc::host::Host host(dirs.config(true));
	host.start();
	REQUIRE(listed(host, 4700));

	SUBCASE("its file removed")
	{
		std::filesystem::remove(dirs.plugins / "pinned.so");
		CHECK(pump_until(host,
		                 [&] { return listed(host, 4700, drpc::host::ModuleState::pinned).has_value(); }));
	}
	SUBCASE("unloaded by ID")
	{
		const drpc::host::ModuleOperation unloaded = host.plugins().unload(4700);
		CHECK(unloaded.ok);
		CHECK(listed(host, 4700, drpc::host::ModuleState::pinned));
	}
	CHECK_FALSE(listed(host, 4700));
	CHECK(reload_test::call(dirs.socket, 4700, 0, "").status() == drpc::Status::UNKNOWN_MODULE);
}
