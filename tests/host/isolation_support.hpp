// SPDX-License-Identifier: Apache-2.0
/// @file isolation_support.hpp
/// Helpers for the isolated-module tests: a real drpc-host process over a
/// temp plugins directory with a config of its own, its listing through the
/// admin module and drpc-ctl, its worker processes, and a bystander
/// connection calling another module the whole time.
#pragma once

#include "host_process.hpp"
#include "host_support.hpp"

#include "admin.pb.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace isolation_test {

/// The echo example plugin's module, the bystanders' target.
inline constexpr int32_t echo_id = 1000;

/// A fault plugin of tests/host/plugins/faults ("fault_segv" -> its .so).
[[nodiscard]] std::filesystem::path fault_plugin(const std::string &name);

class IsolatedHost {
public:
	/// Installs echo.so and `plugins` (file paths) and runs drpc-host with
	/// `modules` as the config's "modules" object (JSON text), and
	/// `plugin_keys` (", \"key\": value" JSON text) added to its "plugins".
	IsolatedHost(const std::vector<std::filesystem::path> &plugins, const std::string &modules,
	             const std::string &plugin_keys = "");
	~IsolatedHost();

	[[nodiscard]] const std::filesystem::path &socket() const noexcept { return socket_; }
	[[nodiscard]] const std::filesystem::path &plugins_dir() const noexcept { return plugins_; }
	[[nodiscard]] bool alive() const;
	[[nodiscard]] pid_t pid() const { return process_->pid(); }

	/// The module as LIST_MODULES shows it; nothing when not listed.
	[[nodiscard]] std::optional<admin::ModuleInfo> module(int32_t id) const;
	/// The refused files as LIST_MODULES shows them.
	[[nodiscard]] std::vector<admin::LoadFailure> failures() const;
	/// DESCRIBE through the admin module (`name` empty: every module).
	[[nodiscard]] admin::DescribeResponse describe(const std::string &name) const;
	/// RELOAD through the admin module; its answer.
	[[nodiscard]] admin::ModuleOpResponse reload(int32_t id) const;
	[[nodiscard]] admin::ModuleOpResponse unload(int32_t id) const;
	/// What `drpc-ctl modules` prints for this host.
	[[nodiscard]] std::string ctl_modules() const;
	/// The host's child processes (its workers).
	[[nodiscard]] std::vector<pid_t> workers() const;
	/// The host's open descriptors.
	[[nodiscard]] size_t open_fds() const;
	/// What they are (readlink of each), for a failure message.
	[[nodiscard]] std::string fd_targets() const;
	[[nodiscard]] uint64_t resident_bytes() const { return process_->resident_bytes(); }
	/// Everything the host logged so far.
	[[nodiscard]] std::string log() const;

	/// Sends `number` to the host process.
	void signal(int number) const { process_->signal(number); }
	/// SIGTERM; the exit status.
	int stop();

private:
	host_test::TempDir dir_;
	std::filesystem::path plugins_;
	std::filesystem::path socket_;
	std::filesystem::path log_;
	std::unique_ptr<host_test::HostProcess> process_;
};

/// One connection calling echo with a small body, in a loop, until stopped:
/// what must lose no call while another module crashes.
class Bystander {
public:
	explicit Bystander(const std::filesystem::path &socket);
	~Bystander();
	/// Stops calling; returns the calls that did not come back SUCCESS with
	/// their own body (connection errors included).
	uint64_t stop();
	[[nodiscard]] uint64_t calls() const noexcept { return calls_.load(); }

private:
	std::atomic<bool> stop_{false};
	std::atomic<uint64_t> calls_{0};
	std::atomic<uint64_t> lost_{0};
	std::thread thread_;
};

/// The "Key:" line of /proc/<pid>/status without the key ("" when gone).
[[nodiscard]] std::string proc_status(pid_t pid, const std::string &key);
/// What /proc/<pid>/fd holds (readlink of each).
[[nodiscard]] std::vector<std::string> fd_targets_of(pid_t pid);

/// A call of its own; its status (FAILURE when the call itself fails).
[[nodiscard]] drpc::Status status_of(const std::filesystem::path &socket, int32_t module, int32_t method,
                                     const std::string &body = "ping");

/// Polls `done` until it holds or `limit` passes; returns done().
inline bool eventually(const std::function<bool()> &done, std::chrono::milliseconds limit = std::chrono::seconds(20))
{
	return host_test::eventually(done, limit);
}

} // namespace isolation_test
