// SPDX-License-Identifier: Apache-2.0
/// @file server_process.hpp
/// A drpc::DomainSocketServer with the bench's hello module in a process of
/// its own, so that its memory, threads and descriptors can be read apart
/// from the clients'. Fork it before this process starts any thread.
#pragma once

#include "child_server.hpp"

#include <drpc/server.hpp>

#include <filesystem>
#include <sys/types.h>

namespace drpc::bench {

class ServerProcess {
public:
	/// Forks the server on `options.socket_path` and waits until it accepts.
	/// Throws std::runtime_error.
	explicit ServerProcess(ServerOptions options);

	[[nodiscard]] pid_t pid() const noexcept { return child_.pid(); }
	/// SIGTERM, then its exit status: 0 when its shutdown was clean. Idempotent.
	int stop() noexcept { return child_.stop(); }

private:
	ChildServer child_;
};

} // namespace drpc::bench
