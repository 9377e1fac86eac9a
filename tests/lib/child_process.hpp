// SPDX-License-Identifier: Apache-2.0
/// @file child_process.hpp
/// A forked helper process for tests that need another uid, their own fd
/// table or their own rlimits: forked before any thread is started, it runs
/// its body when told to, reports one line, and exits when told to.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <sys/types.h>

namespace test {

class ChildProcess {
public:
	/// Forks now; the child waits for go(). `body` runs in the child (as
	/// `uid` when given) and returns its report line.
	ChildProcess(std::function<std::string()> body, std::optional<uid_t> uid = std::nullopt);
	/// Ends the child if it still runs.
	~ChildProcess();
	ChildProcess(const ChildProcess &) = delete;
	ChildProcess &operator=(const ChildProcess &) = delete;

	/// Lets the child run its body and returns its report (empty if it died
	/// or took over a minute).
	std::string go();
	/// Tells the child to exit and returns its exit status (-1: killed).
	int finish();

private:
	pid_t pid_ = -1;
	int to_child_ = -1;
	int from_child_ = -1;
};

/// The uid of user `name`, created (no home, no login) when missing; nothing
/// when that is impossible (not root).
[[nodiscard]] std::optional<uid_t> test_user(const std::string &name);

} // namespace test
