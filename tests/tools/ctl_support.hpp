// SPDX-License-Identifier: Apache-2.0
/// @file ctl_support.hpp
/// Helpers for drpc-ctl's tests: running the built binary, a temp directory,
/// and the small modules of the in-process test server.
#pragma once

#include "temp_dir.hpp"

#include <drpc/log.hpp>
#include <drpc/module.hpp>
#include <drpc/server.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ctl_test {

/// A fresh directory under /tmp, removed with everything in it.
using TempDir = test_support::TempDir;

struct Run {
	int exit_code = -1; ///< -1 when it did not exit normally
	std::string out;
	std::string err;
};

/// Runs the built drpc-ctl with `args` and this process's environment, with
/// DRPC_SOCKET set to `socket_env` (or removed when nothing is given). Kills
/// it after a generous deadline so that a hang fails the test instead of
/// blocking it.
[[nodiscard]] Run run_ctl(const std::vector<std::string> &args,
                          const std::optional<std::string> &socket_env = std::nullopt);

/// DAOS's hello module (0, method 0), for names under 100 bytes: enough for
/// these tests, without generated code (drpc-ctl's code links full protobuf).
class HelloModule : public drpc::Module {
public:
	int32_t id() const noexcept override { return 0; }
	drpc::Status handle_call(const drpc::CallContext &context, std::span<const uint8_t> body,
	                         drpc::ResponseBody &out) override;
};

/// Module 1000: method 0 answers its body.
class EchoModule : public drpc::Module {
public:
	int32_t id() const noexcept override { return 1000; }
	drpc::Status handle_call(const drpc::CallContext &context, std::span<const uint8_t> body,
	                         drpc::ResponseBody &out) override;
};

/// A server with the hello (0) and echo (1000) modules on a fresh socket.
struct HelloEchoServer {
	TempDir dir;
	std::string socket = (dir.path() / "drpc.sock").string();
	drpc::DomainSocketServer server{socket, 0600};

	HelloEchoServer()
	{
		drpc::log::set_level(drpc::log::Level::warn);
		server.register_module(std::make_shared<HelloModule>());
		server.register_module(std::make_shared<EchoModule>());
		server.start();
	}
};

} // namespace ctl_test
