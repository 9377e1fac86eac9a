// SPDX-License-Identifier: Apache-2.0
// Giving memory back: when the idle trim fires, and a real drpc-host whose
// kv plugin held hundreds of MiB returning near its idle RSS once emptied or
// unloaded. A functional check with loose bounds, not a timing.
#include "host_process.hpp"
#include "host_support.hpp"
#include "reload_support.hpp"

#include <drpc/lifecycle/memory_trim.hpp>

#include "admin.pb.h"
#include "kv.pb.h"

#include <drpc/client.hpp>

#include <doctest/doctest.h>

#include <thread>

using namespace std::chrono_literals;
using drpc::host::IdleTrim;

namespace {

constexpr int32_t kv_id = 1001;
constexpr int32_t admin_id = 0x7FFF0000;
constexpr uint64_t mib = uint64_t{1} << 20;

/// ASan and friends keep freed memory in their own quarantine, which
/// malloc_trim cannot reach: there RSS says nothing about the trim.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool rss_means_something = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool rss_means_something = false;
#else
constexpr bool rss_means_something = true;
#endif
#else
constexpr bool rss_means_something = true;
#endif

drpc::Response send(drpc::ClientConnection &connection, int32_t module, int32_t method, const std::string &body)
{
	drpc::Call request;
	request.set_module(module);
	request.set_method(method);
	request.set_body(body);
	return connection.send_msg(request);
}

void put_values(drpc::ClientConnection &connection, int count)
{
	const std::string value(mib, 'v');
	for (int i = 0; i < count; ++i) {
		kv::PutRequest put;
		put.set_key("key-" + std::to_string(i));
		put.set_value(value);
		REQUIRE(send(connection, kv_id, 0, put.SerializeAsString()).status() == drpc::Status::SUCCESS);
	}
}

/// Waits (generously, only against hanging) for the host's RSS to fall under `limit`.
bool rss_falls_under(const host_test::HostProcess &host, uint64_t limit)
{
	return reload_test::eventually([&] { return host.resident_bytes() < limit; }, 20s);
}

} // namespace

TEST_CASE("memory: the idle trim fires once per burst, after the counters have been still for a while")
{
	const IdleTrim::Clock::time_point t0{};
	IdleTrim trim(1000ms);
	CHECK_FALSE(trim.sample(0, t0));           // a server that has done nothing yet
	CHECK_FALSE(trim.sample(0, t0 + 5s));      // nothing happened: nothing to give back
	CHECK_FALSE(trim.sample(7, t0 + 5500ms));  // a burst
	CHECK(trim.sample(7, t0 + 6500ms));        // quiet for a second: trimmed
	CHECK_FALSE(trim.sample(7, t0 + 7s));      // once
	CHECK_FALSE(trim.sample(9, t0 + 6s));      // a burst
	CHECK_FALSE(trim.sample(12, t0 + 6500ms)); // still going
	CHECK_FALSE(trim.sample(12, t0 + 7s));     // quiet for 500 ms only
	CHECK(trim.sample(12, t0 + 7500ms));       // quiet for a second: trimmed
	CHECK_FALSE(trim.sample(12, t0 + 20s));    // once
	CHECK_FALSE(trim.sample(13, t0 + 21s));
	CHECK(trim.sample(13, t0 + 22s));
	CHECK(trim.next_sample() == 1000ms);
}

TEST_CASE("memory: a burst before the idle trim's first sample is trimmed too")
{
	// The event loop samples a second after start: a burst within that
	// second must not become the baseline.
	const IdleTrim::Clock::time_point t0{};
	IdleTrim trim(1000ms);
	CHECK_FALSE(trim.sample(6, t0 + 1s));
	CHECK(trim.sample(6, t0 + 2s));
	CHECK_FALSE(trim.sample(6, t0 + 3s));
}

TEST_CASE("memory: a kv holding hundreds of MiB, emptied or unloaded, gives the memory back")
{
	host_test::TempDir dir;
	std::filesystem::create_directory(dir / "plugins");
	std::filesystem::permissions(dir / "plugins", std::filesystem::perms(0755));
	std::filesystem::copy_file(reload_test::example_plugin("kv"), dir / "plugins" / "kv.so");
	host_test::write_file(dir / "host.json", R"({"socket": {"path": "host.sock"}, "plugins": {"watch": false},
		"modules": {"kv": {"max_keys": 1000, "max_value_bytes": 1048576}}})");
	host_test::HostProcess host({"--config", (dir / "host.json").string(), "--plugins", (dir / "plugins").string()},
	                            dir / "stderr");
	REQUIRE(host.wait_for_socket(dir / "host.sock"));
	drpc::ClientConnection connection(dir / "host.sock", drpc::ClientOptions{.call_timeout = 60s});
	connection.connect();
	REQUIRE(send(connection, kv_id, 3, "").status() == drpc::Status::SUCCESS);
	std::this_thread::sleep_for(1500ms); // past the first idle trim
	const uint64_t idle = host.resident_bytes();
	REQUIRE(idle > 0);
	constexpr int values = 256;

	SUBCASE("emptied with DELETE: given back at once, before any idle trim")
	{
		put_values(connection, values);
		const uint64_t full = host.resident_bytes();
		for (int i = 0; i < values; ++i) {
			kv::DeleteRequest erase;
			erase.set_key("key-" + std::to_string(i));
			REQUIRE(send(connection, kv_id, 2, erase.SerializeAsString()).status() ==
			        drpc::Status::SUCCESS);
		}
		// Read at once: the idle trim waits for a second without calls.
		const uint64_t emptied = host.resident_bytes();
		INFO("idle ", idle / mib, " MiB, full ", full / mib, " MiB, emptied ", emptied / mib, " MiB");
		if (rss_means_something) {
			CHECK(full > idle + 200 * mib);
			// Each 1 MiB value had a mapping of its own (the host fixes
			// glibc's mmap threshold), unmapped by its DELETE.
			CHECK(emptied < idle + 32 * mib);
		}
	}
	SUBCASE("unloaded through the admin module: trimmed at the unload")
	{
		put_values(connection, values);
		const uint64_t full = host.resident_bytes();
		admin::UnloadRequest unload;
		unload.set_id(kv_id);
		admin::ModuleOpResponse answer;
		REQUIRE(answer.ParseFromString(send(connection, admin_id, 2, unload.SerializeAsString()).body()));
		CHECK(answer.ok());
		INFO("idle ", idle / mib, " MiB, full ", full / mib, " MiB, now ", host.resident_bytes() / mib, " MiB");
		if (rss_means_something) {
			CHECK(full > idle + 200 * mib);
			CHECK(rss_falls_under(host, idle + 64 * mib));
		}
	}
}
