// SPDX-License-Identifier: Apache-2.0
// Module access lists end to end: drpc-host as a real process, calls over
// its socket from root and from a second uid made with useradd.
#include "host_process.hpp"
#include "host_support.hpp"
#include "reload_support.hpp"

#include "admin.pb.h"
#include "kv.pb.h"

#include <drpc/client.hpp>
#include <drpc/status.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <csignal>
#include <sys/stat.h>

using namespace std::chrono_literals;
using host_test::call;
using host_test::HostProcess;

namespace {

constexpr int32_t hello_id = 0;
constexpr int32_t echo_id = 1000;
constexpr int32_t kv_id = 1001;
constexpr int32_t admin_id = 0x7FFF0000;

/// A temp dir others may traverse, with the example plugins and a host
/// config whose socket anyone may connect to (the access lists decide).
struct AccessSetup {
	explicit AccessSetup(const std::string &modules_json)
	{
		std::filesystem::permissions(dir.path(), std::filesystem::perms(0755));
		std::filesystem::create_directory(plugins);
		std::filesystem::permissions(plugins, std::filesystem::perms(0755));
		for (const char *name : {"hello", "echo", "kv"})
			std::filesystem::copy_file(reload_test::example_plugin(name),
			                           plugins / (std::string(name) + ".so"));
		host_test::write_file(dir / "host.json", R"({"socket": {"path": "host.sock", "mode": "0666"},
			"plugins": {"watch": false}, "modules": )" +
		                                                 modules_json + "}");
	}

	[[nodiscard]] std::vector<std::string> args() const
	{
		return {"--config", (dir / "host.json").string(), "--plugins", plugins.string()};
	}

	host_test::TempDir dir;
	std::filesystem::path plugins = dir / "plugins";
	std::filesystem::path socket = dir / "host.sock";
	std::filesystem::path log = dir / "stderr";
};

/// The status of one call made as `user`, or -1 when the call itself failed.
int status_as(const host_test::User &user, const std::filesystem::path &socket, int32_t module, int32_t method,
              const std::string &body = {})
{
	return host_test::run_as(user, [&] { return static_cast<int>(call(socket, module, method, body).status()); });
}

size_t count(const std::string &text, const std::string &part)
{
	size_t found = 0;
	for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1))
		++found;
	return found;
}

} // namespace

TEST_CASE("access: a module's allow list answers everyone else FAILURE before the module runs")
{
	const auto peer = host_test::second_user();
	if (!peer) {
		MESSAGE("skipped: needs root to make and become a second user");
		return;
	}
	AccessSetup setup(R"({"kv": {"max_keys": 10, "allow": {"uids": []}},
		"hello": {"allow": {"uids": [)" +
	                  std::to_string(peer->uid) + R"(]}},
		"echo": {"allow": {"gids": [)" +
	                  std::to_string(peer->gid) + R"(]}}})");
	HostProcess host(setup.args(), setup.log);
	REQUIRE(host.wait_for_socket(setup.socket));
	const auto success = static_cast<int>(drpc::Status::SUCCESS);
	const auto failure = static_cast<int>(drpc::Status::FAILURE);

	SUBCASE("root and the host's user pass every list")
	{
		CHECK(call(setup.socket, hello_id, 0, "").status() != drpc::Status::FAILURE);
		CHECK(call(setup.socket, echo_id, 0, "x").status() == drpc::Status::SUCCESS);
		CHECK(call(setup.socket, kv_id, 3, "").status() == drpc::Status::SUCCESS);
	}
	SUBCASE("a uid or a gid in the list may call; a module not listed for it answers FAILURE")
	{
		CHECK(status_as(*peer, setup.socket, echo_id, 0, "x") == success);
		CHECK(status_as(*peer, setup.socket, hello_id, 0) == success);
		kv::PutRequest put;
		put.set_key("k");
		put.set_value("from the peer");
		CHECK(status_as(*peer, setup.socket, kv_id, 0, put.SerializeAsString()) == failure);
		// The module never saw the refused call: nothing was stored.
		kv::GetRequest get;
		get.set_key("k");
		kv::GetResponse got;
		REQUIRE(got.ParseFromString(call(setup.socket, kv_id, 1, get.SerializeAsString()).body()));
		CHECK_FALSE(got.found());
	}
	SUBCASE("the admin module is closed to others unless the config opens it")
	{
		CHECK(status_as(*peer, setup.socket, admin_id, 0) == failure);
		CHECK(status_as(*peer, setup.socket, admin_id, 4) == failure);
		CHECK(call(setup.socket, admin_id, 4, "").status() == drpc::Status::SUCCESS);
	}
	SUBCASE("refusals are logged, rate-limited")
	{
		for (int i = 0; i < 40; ++i)
			REQUIRE(status_as(*peer, setup.socket, kv_id, 3) == failure);
		host.signal(SIGTERM);
		CHECK(host.wait() == 0);
		const std::string log = host_test::read_file(setup.log);
		INFO("stderr: ", log);
		const std::string refused = "uid " + std::to_string(peer->uid);
		CHECK(count(log, "refused: not in modules.kv.allow") >= 1);
		CHECK(count(log, "refused: not in modules.kv.allow") <= 5);
		CHECK(log.find(refused) != std::string::npos);
	}
}

TEST_CASE("access: modules.admin.allow opens LIST_MODULES and STATS, never LOAD")
{
	const auto peer = host_test::second_user();
	if (!peer) {
		MESSAGE("skipped: needs root to make and become a second user");
		return;
	}
	AccessSetup setup(R"({"admin": {"allow": {"everyone": true}}})");
	HostProcess host(setup.args(), setup.log);
	REQUIRE(host.wait_for_socket(setup.socket));

	CHECK(status_as(*peer, setup.socket, admin_id, 0) == static_cast<int>(drpc::Status::SUCCESS));
	CHECK(status_as(*peer, setup.socket, admin_id, 4) == static_cast<int>(drpc::Status::SUCCESS));
	admin::UnloadRequest unload;
	unload.set_id(echo_id);
	// Answered (SUCCESS, ok = false, "permission denied"), and nothing changed.
	const int ok = host_test::run_as(*peer, [&] {
		admin::ModuleOpResponse answer;
		if (!answer.ParseFromString(call(setup.socket, admin_id, 2, unload.SerializeAsString()).body()))
			return 2;
		return answer.ok() ? 1 : 0;
	});
	CHECK(ok == 0);
	CHECK(call(setup.socket, echo_id, 0, "still here").body() == "still here");
}
