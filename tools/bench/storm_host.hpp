// SPDX-License-Identifier: Apache-2.0
/// @file storm_host.hpp
/// The reload storm's server: a drpc::DomainSocketServer in this process
/// serving the plugin lifecycle (drpc/lifecycle/lifecycle.hpp) of a plugins
/// directory of its own, its event loop on a thread, with the storm plugin
/// as storm.so; and the way a build gets swapped in, as an installer would:
/// copy beside it, rename over it.
#pragma once

#include "seqpacket.hpp"
#include "temp_dir.hpp"

#include <drpc/lifecycle/lifecycle.hpp>
#include <drpc/server.hpp>
#include <drpc/unique_fd.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace drpc::bench {

/// The two builds of the storm plugin; each answers its letter.
enum class StormBuild : char { a = 'A', b = 'B' };

/// The storm plugin's module ID (tools/bench/storm/storm_plugin.cpp).
inline constexpr int32_t storm_module_id = 4300;

class StormHost {
public:
	/// Installs `first` as storm.so, starts the host and its event loop.
	/// `builds_dir` holds storm_a.so and storm_b.so. Throws drpc::Error when
	/// the lifecycle or the server cannot start, or std::runtime_error naming
	/// a missing build.
	StormHost(const std::filesystem::path &builds_dir, StormBuild first);
	/// Calls stop().
	~StormHost();
	StormHost(const StormHost &) = delete;
	StormHost &operator=(const StormHost &) = delete;

	/// Replaces storm.so with `build` (copy to a temporary name the watcher
	/// ignores, then rename over it) and returns when the rename began: the
	/// call itself may return much later, once the file system has freed the
	/// replaced file. Throws std::filesystem::filesystem_error.
	std::chrono::steady_clock::time_point install(StormBuild build);

	/// Ends the event loop, shuts the server down and unloads the plugin.
	/// Idempotent.
	void stop() noexcept;

	/// The directory of the socket, the plugins and the runtime copies.
	[[nodiscard]] const std::filesystem::path &directory() const noexcept { return dir_.path(); }
	[[nodiscard]] const std::filesystem::path &socket_path() const noexcept { return socket_path_; }
	[[nodiscard]] const std::filesystem::path &runtime_dir() const noexcept { return runtime_dir_; }
	[[nodiscard]] host::Lifecycle &plugins() noexcept { return *plugins_; }
	/// Why the event loop ended early; empty while it runs.
	[[nodiscard]] std::string loop_error() const;

private:
	void event_loop() noexcept;
	[[nodiscard]] std::filesystem::path build_path(StormBuild build) const;

	const std::filesystem::path builds_dir_;
	const TempDir dir_;
	const std::filesystem::path plugins_dir_;
	const std::filesystem::path socket_path_;
	const std::filesystem::path runtime_dir_;
	drpc::DomainSocketServer server_;
	/// Serves into server_'s registry; destroyed first, once server_ has
	/// shut down (left mapped if calls outlived the shutdown deadline).
	std::unique_ptr<host::Lifecycle> plugins_;
	/// Wakes the event loop: nothing is ever written; closing the write end
	/// makes the read end poll as hung up, and the loop sees `stopping_`.
	UniqueFd wake_read_;
	UniqueFd wake_write_;
	std::atomic<bool> stopping_{false};
	std::thread loop_;
	mutable std::mutex error_mutex_;
	std::string loop_error_;
	bool stopped_ = false;
};

} // namespace drpc::bench
