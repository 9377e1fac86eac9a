// SPDX-License-Identifier: Apache-2.0
/// @file reload_support.hpp
/// Helpers for the hot-reload tests: a host over a temp plugins directory,
/// driving its event loop, changing plugin files the ways deploy tools do,
/// and looking at what the process has mapped and open.
#pragma once

#include "host_support.hpp"

#include <host.hpp>

#include <drpc/message.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

namespace reload_test {

/// The storm plugin's module: method 0 answers the build's letter and the body.
inline constexpr int32_t storm_id = 4300;
inline constexpr int32_t storm_echo_method = 0;
/// Sleeps for the number of milliseconds in the body, then answers as method 0.
inline constexpr int32_t storm_sleep_method = 1;

/// storm_a.so or storm_b.so (`build` is 'A' or 'B').
[[nodiscard]] std::filesystem::path storm_plugin(char build);
/// An example plugin from <build>/plugins ("kv" -> kv.so).
[[nodiscard]] std::filesystem::path example_plugin(const std::string &name);

/// A temp dir holding an empty, trusted `plugins/`, a `staging/` directory on
/// the same file system (to rename files in from) and room for the socket.
struct HostDirs {
	HostDirs();
	/// A config over these directories; `drain_timeout_ms` 0 keeps the default.
	[[nodiscard]] drpc::host::HostConfig config(bool watch, uint64_t drain_timeout_ms = 0) const;

	host_test::TempDir dir;
	std::filesystem::path plugins = dir / "plugins";
	std::filesystem::path staging = dir / "staging";
	std::filesystem::path socket = dir / "host.sock";
};

/// An eventfd that is never written: run_once()'s signal descriptor when no
/// signal is wanted.
class QuietFd {
public:
	QuietFd();
	~QuietFd();
	QuietFd(const QuietFd &) = delete;
	QuietFd &operator=(const QuietFd &) = delete;
	[[nodiscard]] int get() const noexcept { return fd_; }

private:
	int fd_ = -1;
};

/// Runs rounds of host.run_once() on the calling thread until `done()` holds
/// or `limit` has passed (a deadline only against hanging); returns done().
bool pump_until(drpc::host::Host &host, const std::function<bool()> &done,
                std::chrono::milliseconds limit = std::chrono::seconds(10));
/// Runs rounds of host.run_once() for `duration`, so that whatever the watcher
/// saw has settled and been acted on.
void pump_for(drpc::host::Host &host, std::chrono::milliseconds duration);

using host_test::eventually;

/// The host's main loop on a thread of its own, until destroyed.
class EventLoop {
public:
	explicit EventLoop(drpc::host::Host &host);
	~EventLoop();
	EventLoop(const EventLoop &) = delete;
	EventLoop &operator=(const EventLoop &) = delete;
	/// Why a round threw, if one did (the loop stops then).
	[[nodiscard]] std::string error() const;

private:
	QuietFd quiet_;
	std::atomic<bool> stop_{false};
	mutable std::mutex mutex_;
	std::string error_; // guarded by mutex_
	std::thread thread_;
};

/// Writes `bytes` to `target` with open(O_CREAT|O_TRUNC), write, close: a
/// copy in place, or an overwrite of an existing file (same inode).
void write_bytes(const std::filesystem::path &target, const std::string &bytes);
/// Writes `from`'s contents under a hidden temporary name in `dir`, then
/// renames it to `name`: the atomic replace deploy tools do.
void install_by_rename(const std::filesystem::path &from, const std::filesystem::path &dir, const std::string &name);

using host_test::call;
/// What storm's method 0 answers to an empty body: "A" or "B", or the status's
/// name when it is not SUCCESS.
[[nodiscard]] std::string storm_answer(const std::filesystem::path &socket);

/// What one storm client saw.
struct Tally {
	uint64_t calls = 0;
	uint64_t failures = 0;
	std::string first_failure;

	void fail(std::string why)
	{
		if (failures++ == 0)
			first_failure = std::move(why);
	}
};

/// Calls storm's method 0 on one connection until told to stop; every answer
/// must be SUCCESS, from build A or B, echoing the body. A lost connection or
/// an unanswered call ends the client and counts as a failure.
void run_storm_client(const std::filesystem::path &socket, int index, const std::atomic<bool> &stop, Tally &tally);

/// The storm itself: `count` rounds of putting build B, A, B, ... in place as
/// plugins/storm.so by rename, each waited for until `socket` answers with
/// it. Returns the rounds served; stops at the first one never served, with
/// a failed check saying which.
int storm_reloads(const std::filesystem::path &plugins, const std::filesystem::path &socket,
                  const std::array<std::string, 2> &builds, int count);

/// The module `id` in the host's listing, in `state`, if listed so.
[[nodiscard]] std::optional<drpc::host::ModuleRecord> listed(
	drpc::host::Host &host, int32_t id, drpc::host::ModuleState state = drpc::host::ModuleState::serving);

/// The distinct files under `dir` that this process has mapped (/proc/self/maps).
[[nodiscard]] std::set<std::string> mapped_under(const std::filesystem::path &dir);
/// Open descriptors of this process.
[[nodiscard]] size_t open_fd_count();
/// Entries in `dir`.
[[nodiscard]] size_t entry_count(const std::filesystem::path &dir);
/// Log lines containing every one of `parts`.
[[nodiscard]] size_t count_lines(const host_test::LogCapture &log, std::initializer_list<std::string> parts);

/// Waits until `count` threads of this process sleep in clock_nanosleep (as
/// storm's method 1 does, so: its calls are inside the plugin). Falls back to
/// a short pause where /proc does not tell. Returns false at `limit`.
bool wait_for_sleeping_threads(size_t count, std::chrono::milliseconds limit = std::chrono::seconds(10));

} // namespace reload_test
