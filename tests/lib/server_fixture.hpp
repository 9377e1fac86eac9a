// SPDX-License-Identifier: Apache-2.0
/// @file server_fixture.hpp
/// What the server suites share: a server on a fresh socket with the echo
/// module, call construction, and bounded waiting for a condition.
#pragma once

#include "test_support.hpp"

#include <drpc/message.hpp>
#include <drpc/server.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

namespace test {

inline drpc::Call make_call(int32_t module, int32_t method, std::string body = {})
{
	drpc::Call call;
	call.set_module(module);
	call.set_method(method);
	call.set_body(std::move(body));
	return call;
}

/// A server on a fresh socket with the echo module (1000) registered.
struct Fixture {
	explicit Fixture(drpc::ServerOptions options = {})
	{
		options.socket_path = dir / "drpc.sock";
		server = std::make_unique<drpc::DomainSocketServer>(options);
		server->register_module(echo);
		server->start();
	}
	[[nodiscard]] std::filesystem::path socket() const { return dir / "drpc.sock"; }

	TempDir dir;
	std::shared_ptr<EchoModule> echo = std::make_shared<EchoModule>();
	std::unique_ptr<drpc::DomainSocketServer> server;
};

/// Polls `predicate` until it holds or `limit` passes (a bound, not a
/// speed target).
template <class Predicate>
bool eventually(Predicate predicate, std::chrono::milliseconds limit = std::chrono::seconds(10))
{
	const auto deadline = std::chrono::steady_clock::now() + limit;
	while (!predicate()) {
		if (std::chrono::steady_clock::now() > deadline)
			return false;
		std::this_thread::sleep_for(std::chrono::milliseconds(1));
	}
	return true;
}

} // namespace test
