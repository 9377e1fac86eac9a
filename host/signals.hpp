// SPDX-License-Identifier: Apache-2.0
/// @file signals.hpp
/// Waiting for SIGTERM, SIGINT (stop) and SIGHUP (rescan the plugins) without
/// a signal handler: the signals are blocked in every thread and read from a
/// signalfd by the main thread.
#pragma once

#include <drpc/unique_fd.hpp>

#include <chrono>
#include <optional>

namespace drpc::host {

class ShutdownSignals {
public:
	/// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread, which every thread
	/// it starts afterwards inherits: construct it before any thread exists.
	/// Throws drpc::SystemError.
	ShutdownSignals();
	/// Closes the signalfd and unblocks the signals.
	~ShutdownSignals();
	ShutdownSignals(const ShutdownSignals &) = delete;
	ShutdownSignals &operator=(const ShutdownSignals &) = delete;

	/// Waits for one of the signals and returns its number; nothing when
	/// `timeout` passed first (a negative timeout waits forever).
	/// Throws drpc::SystemError.
	std::optional<int> wait(std::chrono::milliseconds timeout = std::chrono::milliseconds(-1));

	/// The signalfd, to poll for POLLIN beside other descriptors.
	[[nodiscard]] int fd() const noexcept { return fd_.get(); }

private:
	drpc::UniqueFd fd_;
};

} // namespace drpc::host
