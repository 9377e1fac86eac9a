// SPDX-License-Identifier: Apache-2.0
// The in-process host of the reload storm and the installer's rename.
#include "storm_host.hpp"

#include <cerrno>
#include <fcntl.h>
#include <poll.h>
#include <stdexcept>
#include <sys/statvfs.h>
#include <system_error>
#include <unistd.h>

namespace drpc::bench {
namespace {

namespace fs = std::filesystem;

/// Bounds how late the loop notices a settled file, whatever
/// Lifecycle::next_due() says (it is the storm's pace that is measured).
constexpr std::chrono::milliseconds loop_tick{2};

/// As drpc-host's server.shutdown_timeout_ms default.
constexpr std::chrono::milliseconds shutdown_timeout{5000};

constexpr std::string_view installed_name = "storm.so";
/// Hidden and ".tmp": the watcher ignores the copy until it is renamed.
constexpr std::string_view staging_name = ".storm.so.tmp";

constexpr fs::perms plugins_dir_mode = fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                       fs::perms::others_read | fs::perms::others_exec;
constexpr fs::perms plugin_file_mode =
	fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read;

/// A tmpfs that may hold code, when there is one: on a disk file system,
/// renaming over a file can block the renamer for a second while the
/// journal frees the old one, which would measure the disk (and whoever
/// else writes to it), not the host. (The host's default runtime directory,
/// $XDG_RUNTIME_DIR, is a tmpfs too.)
fs::path scratch_base()
{
	struct statvfs info {};
	if (::statvfs("/dev/shm", &info) == 0 && (info.f_flag & (ST_NOEXEC | ST_RDONLY)) == 0 &&
	    ::access("/dev/shm", W_OK) == 0)
		return "/dev/shm";
	return "/tmp";
}

host::LifecycleOptions storm_options(const fs::path &plugins, const fs::path &runtime)
{
	return {.plugins_dir = plugins, .runtime_dir = runtime, .strict_permissions = true, .watch = true};
}

void copy_plugin(const fs::path &from, const fs::path &to)
{
	fs::copy_file(from, to, fs::copy_options::overwrite_existing);
	fs::permissions(to, plugin_file_mode);
}

} // namespace

StormHost::StormHost(const fs::path &builds_dir, StormBuild first)
	: builds_dir_(builds_dir),
	  dir_("drpc-storm", scratch_base()),
	  plugins_dir_(dir_.path() / "plugins"),
	  socket_path_(dir_.path() / "host.sock"),
	  runtime_dir_(dir_.path() / "runtime"),
	  server_(socket_path_, 0600)
{
	for (const StormBuild build : {StormBuild::a, StormBuild::b}) {
		if (!fs::is_regular_file(build_path(build)))
			throw std::runtime_error("no storm plugin build " + build_path(build).string() +
			                         " (build the project, or give --storm-plugins DIR)");
	}
	fs::create_directory(plugins_dir_);
	fs::permissions(plugins_dir_, plugins_dir_mode);
	copy_plugin(build_path(first), plugins_dir_ / installed_name);

	int ends[2];
	if (::pipe2(ends, O_CLOEXEC) != 0)
		throw std::system_error(errno, std::generic_category(), "pipe for the storm host's event loop");
	wake_read_.reset(ends[0]);
	wake_write_.reset(ends[1]);

	plugins_ = std::make_unique<host::Lifecycle>(storm_options(plugins_dir_, runtime_dir_), server_.modules());
	plugins_->load_all();
	if (plugins_->size() != 1)
		throw std::runtime_error("the storm host serves " + std::to_string(plugins_->size()) +
		                         " plugin(s) from " + plugins_dir_.string() + ", expected storm.so alone");
	server_.start();
	loop_ = std::thread(&StormHost::event_loop, this);
}

StormHost::~StormHost() { stop(); }

fs::path StormHost::build_path(StormBuild build) const
{
	return builds_dir_ / (build == StormBuild::a ? "storm_a.so" : "storm_b.so");
}

std::chrono::steady_clock::time_point StormHost::install(StormBuild build)
{
	const fs::path staged = plugins_dir_ / staging_name;
	copy_plugin(build_path(build), staged);
	const auto renaming = std::chrono::steady_clock::now();
	fs::rename(staged, plugins_dir_ / installed_name);
	return renaming;
}

void StormHost::event_loop() noexcept
{
	try {
		while (!stopping_.load()) {
			pollfd ready[2] = {{wake_read_.get(), POLLIN, 0}, {plugins_->watch_fd(), POLLIN, 0}};
			const int count = ::poll(ready, 2, static_cast<int>(loop_tick.count()));
			if (count < 0 && errno != EINTR)
				throw std::system_error(errno, std::generic_category(), "poll");
			if (count > 0 && ready[0].revents != 0)
				break; // the write end closed: a stop request
			(void)plugins_->handle_events(count > 0 && (ready[1].revents & POLLIN) != 0);
		}
	} catch (const std::exception &e) {
		const std::lock_guard lock(error_mutex_);
		loop_error_ = std::string("storm host event loop: ") + e.what();
	}
}

std::string StormHost::loop_error() const
{
	const std::lock_guard lock(error_mutex_);
	return loop_error_;
}

void StormHost::stop() noexcept
{
	if (stopped_)
		return;
	stopped_ = true;
	stopping_.store(true);
	wake_write_.reset(); // the read end polls as hung up: the loop ends at once
	if (loop_.joinable())
		loop_.join();
	if (!server_.shutdown(shutdown_timeout))
		(void)plugins_.release(); // calls still run in plugin code: it must stay mapped
	plugins_.reset();
}

} // namespace drpc::bench
