// SPDX-License-Identifier: Apache-2.0
/// @file host_process.hpp
/// drpc-host run as a child process (optionally as another user, with extra
/// environment), and a second, unprivileged user for access tests.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace host_test {

/// A uid and gid to run something as.
struct User {
	uid_t uid = 0;
	gid_t gid = 0;
};

/// The test user "drpc-test-peer", created with useradd when missing. Only
/// root can create it or switch to it: nothing when not root (the caller
/// then skips what needs it).
[[nodiscard]] std::optional<User> second_user();

/// Runs `body` in a forked child as `user` (no supplementary groups) and
/// returns what it returned (0..125), or -1 when the child failed otherwise.
/// The test process must have no threads doing anything meanwhile.
int run_as(const User &user, const std::function<int()> &body);

/// drpc-host run as a child process, stderr to a file.
class HostProcess {
public:
	struct Options {
		std::optional<User> user;     ///< run as this user (root only)
		std::vector<std::string> env; ///< "NAME=value" added to the environment
	};

	HostProcess(std::vector<std::string> args, const std::filesystem::path &stderr_file);
	HostProcess(std::vector<std::string> args, const std::filesystem::path &stderr_file, const Options &options);
	/// Kills (SIGKILL) and reaps it when still running.
	~HostProcess();
	HostProcess(const HostProcess &) = delete;
	HostProcess &operator=(const HostProcess &) = delete;

	[[nodiscard]] pid_t pid() const noexcept { return pid_; }
	void signal(int number) const;

	/// The exit status, or -1 when it did not exit within the (generous) deadline.
	int wait(std::chrono::seconds deadline = std::chrono::seconds(60));

	/// True once something accepts connections at `socket` (generous deadline, only to avoid hanging).
	bool wait_for_socket(const std::filesystem::path &socket) const;

	/// Its resident set size in bytes, from /proc/<pid>/statm; 0 when gone.
	[[nodiscard]] uint64_t resident_bytes() const;

private:
	pid_t pid_ = -1;
};

} // namespace host_test
