// SPDX-License-Identifier: Apache-2.0
// Plugin files: the size cap, copies that keep holes, and a plugins
// directory that stops being trusted while the host serves.
#include "host_support.hpp"
#include "reload_support.hpp"

#include <plugin_file.hpp>
#include <runtime_dir.hpp>
#include <sparse_copy.hpp>

#include <drpc/error.hpp>

#include <doctest/doctest.h>

#include <csignal>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using drpc::host::PluginDirectory;
using drpc::host::RuntimeDir;
using namespace std::chrono_literals;

namespace {

/// A trusted plugins directory and a private runtime directory beside it.
struct Dirs {
	Dirs()
	{
		std::filesystem::create_directory(plugins);
		std::filesystem::permissions(plugins, std::filesystem::perms(0755));
	}
	host_test::TempDir dir;
	std::filesystem::path plugins = dir / "plugins";
	RuntimeDir runtime{dir / "runtime", true};
};

/// `size` bytes apparent, data only in the first and the last 4 KiB.
void make_sparse(const std::filesystem::path &path, off_t size)
{
	const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	REQUIRE(fd >= 0);
	const std::string head(4096, 'H');
	const std::string tail(4096, 'T');
	REQUIRE(::pwrite(fd, head.data(), head.size(), 0) == 4096);
	REQUIRE(::pwrite(fd, tail.data(), tail.size(), size - 4096) == 4096);
	::close(fd);
}

uint64_t allocated_bytes(int fd)
{
	struct stat st {};
	REQUIRE(::fstat(fd, &st) == 0);
	return static_cast<uint64_t>(st.st_blocks) * 512;
}

} // namespace

TEST_CASE("plugin files: larger than plugins.max_file_bytes is refused before anything is copied")
{
	Dirs dirs;
	const auto good = host_test::install_plugin(dirs.plugins, "good");
	const auto size = std::filesystem::file_size(good);
	const PluginDirectory capped(dirs.plugins, true, size - 1);
	CHECK_THROWS_WITH_AS((void)capped.copy_plugin("good.so", dirs.runtime, 1),
	                     doctest::Contains("(plugins.max_file_bytes)"), drpc::Error);
	CHECK(reload_test::entry_count(dirs.runtime.path()) == 0);
	const PluginDirectory fits(dirs.plugins, true, size);
	CHECK(fits.copy_plugin("good.so", dirs.runtime, 2).path().filename() == "good.2.so");
	CHECK(drpc::host::max_plugin_file_bytes == uint64_t{64} << 20);
}

TEST_CASE("plugin files: a sparse file is copied with its holes")
{
	Dirs dirs;
	constexpr off_t size = off_t{200} << 20;
	make_sparse(dirs.plugins / "sparse.so", size);
	const PluginDirectory directory(dirs.plugins, true, uint64_t{256} << 20);
	const drpc::host::RuntimeFile copy = directory.copy_plugin("sparse.so", dirs.runtime, 1);
	struct stat st {};
	REQUIRE(::fstat(copy.fd(), &st) == 0);
	CHECK(st.st_size == size);
	// 8 KiB of data; file systems allocate in blocks, so allow some slack.
	CHECK(allocated_bytes(copy.fd()) < (uint64_t{1} << 20));
	std::string head(4096, '\0');
	std::string middle(4096, 'x');
	std::string tail(4096, '\0');
	REQUIRE(::pread(copy.fd(), head.data(), head.size(), 0) == 4096);
	REQUIRE(::pread(copy.fd(), middle.data(), middle.size(), size / 2) == 4096);
	REQUIRE(::pread(copy.fd(), tail.data(), tail.size(), size - 4096) == 4096);
	CHECK(head == std::string(4096, 'H'));
	CHECK(middle == std::string(4096, '\0'));
	CHECK(tail == std::string(4096, 'T'));
}

TEST_CASE("plugin files: a plain copy is byte for byte, and a real plugin's copy loads")
{
	Dirs dirs;
	const auto good = host_test::install_plugin(dirs.plugins, "good");
	const PluginDirectory directory(dirs.plugins, true);
	const drpc::host::RuntimeFile copy = directory.copy_plugin("good.so", dirs.runtime, 1);
	CHECK(host_test::read_file(copy.path()) == host_test::read_file(good));

	SUBCASE("copy_keeping_holes on its own: a file with no data is only a size")
	{
		const int from = ::open((dirs.dir / "empty").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		const int to = ::open((dirs.dir / "copy").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		REQUIRE(::ftruncate(from, 1 << 20) == 0);
		CHECK(drpc::host::copy_keeping_holes(from, to, 1 << 20) == (1u << 20));
		CHECK(std::filesystem::file_size(dirs.dir / "copy") == (1u << 20));
		CHECK(allocated_bytes(to) < (64u << 10));
		CHECK_THROWS_AS((void)drpc::host::copy_keeping_holes(from, to, (1 << 20) - 1), drpc::Error);
		::close(from);
		::close(to);
	}
}

TEST_CASE("plugin files: a plugins directory that becomes writable by others stops all loading; loaded modules "
          "keep serving")
{
	host_test::LogCapture log;
	reload_test::HostDirs dirs;
	host_test::install_plugin(dirs.plugins, "good");
	drpc::host::Host host(dirs.config(true));
	host.start();
	REQUIRE(reload_test::listed(host, 4242));
	::chmod(dirs.plugins.c_str(), 0777);

	// Another user could now swap, add or remove files: none of it counts.
	std::filesystem::remove(dirs.plugins / "good.so");
	reload_test::write_bytes(dirs.plugins / "storm.so", host_test::read_file(reload_test::storm_plugin('A')));
	reload_test::pump_for(host, 1500ms);
	host.plugins().rescan();
	CHECK(reload_test::listed(host, 4242));
	CHECK_FALSE(reload_test::listed(host, reload_test::storm_id));
	CHECK(reload_test::call(dirs.socket, 4242, 0, "still serving").body() == "still serving");
	const drpc::host::ModuleOperation load = host.plugins().load("storm.so");
	CHECK_FALSE(load.ok);
	CHECK(load.error.find("is no longer trusted: writable by others (mode 0777") != std::string::npos);
	CHECK_FALSE(
		log.find({"ERROR", "plugins directory " + dirs.plugins.string() + " is no longer trusted"}).empty());
	CHECK_FALSE(log.find({"rescan: plugins directory", "no longer trusted"}).empty());

	// Fixed: the next rescan catches up with what changed meanwhile.
	::chmod(dirs.plugins.c_str(), 0755);
	host.plugins().rescan();
	CHECK_FALSE(reload_test::listed(host, 4242));
	CHECK(reload_test::listed(host, reload_test::storm_id));
}
