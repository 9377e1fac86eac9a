// SPDX-License-Identifier: Apache-2.0
// The host config reader: defaults, every key, and errors that name the
// key's path.
#include "host_support.hpp"

#include <config.hpp>

#include <doctest/doctest.h>

using drpc::host::ConfigError;
using drpc::host::HostConfig;
using drpc::host::parse_config;

namespace {

std::string error_of(const std::string &text)
{
	try {
		(void)parse_config(text, "/etc/drpc");
	} catch (const ConfigError &e) {
		return e.what();
	}
	return "(accepted)";
}

} // namespace

TEST_CASE("config: an empty object gets every default")
{
	const HostConfig config = parse_config("{}", "/etc/drpc");
	const HostConfig defaults;
	CHECK(config.socket.path.empty()); // the run directory's drpc-host.sock
	CHECK(config.run_directory.empty());
	CHECK(config.socket.mode == 0600);
	CHECK(config.socket.unlink_stale);
	CHECK(config.plugins.directory == HostConfig::default_plugin_directory());
	CHECK(config.plugins.runtime_dir.empty());
	CHECK(config.plugins.strict_permissions);
	CHECK(config.plugins.max_file_bytes == 64u << 20);
	CHECK(config.access.empty());
	CHECK(config.limits.max_message_bytes == 16u << 20);
	CHECK(config.limits.max_sessions == 16384);
	CHECK(config.limits.max_sessions_per_uid == 4096);
	CHECK(config.limits.reserved_sessions == 16);
	CHECK(config.limits.max_inflight_bytes == 256u << 20);
	CHECK(config.limits.max_inflight_bytes_per_uid == 128u << 20);
	CHECK(config.limits.message_timeout_ms == 10000);
	CHECK(config.limits.send_timeout_ms == 10000);
	CHECK(config.limits.idle_timeout_ms == 0);
	CHECK(config.server.spare_threads == 2);
	CHECK(config.server.max_threads == 1024);
	CHECK(config.server.park_after_ms == 20);
	CHECK(config.server.shutdown_timeout_ms == 5000);
	CHECK(config.log_level == drpc::log::Level::info);
	CHECK(config.modules.empty());
}

TEST_CASE("config: every key")
{
	const HostConfig config = parse_config(R"({
		"socket": {"path": "run/host.sock", "mode": "0660", "unlink_stale": false},
		"run_directory": "/run/drpc-test",
		"plugins": {"directory": "/opt/drpc/plugins", "runtime_dir": "rt", "strict_permissions": false,
		            "max_file_bytes": 1048576},
		"limits": {"max_message_bytes": 1048576, "max_sessions": 16, "max_sessions_per_uid": 4,
		           "reserved_sessions": 2, "max_inflight_bytes": 8388608, "max_inflight_bytes_per_uid": 4194304,
		           "message_timeout_ms": 100, "send_timeout_ms": 200, "idle_timeout_ms": 300},
		"server": {"spare_threads": 0, "max_threads": 8, "park_after_ms": 5, "shutdown_timeout_ms": 250},
		"log": {"level": "debug"},
		"modules": {"kv": {"max_keys": 10, "nested": {"a": [1, 2]}, "allow": {"uids": [1000, 1001]}},
		            "echo": {}, "hello": {"allow": {"gids": [27], "everyone": false}},
		            "admin": {"allow": {"everyone": true}}}
	})",
	                                       "/etc/drpc");
	CHECK(config.socket.path == "/etc/drpc/run/host.sock");
	CHECK(config.socket.mode == 0660);
	CHECK_FALSE(config.socket.unlink_stale);
	CHECK(config.plugins.directory == "/opt/drpc/plugins");
	CHECK(config.plugins.runtime_dir == "/etc/drpc/rt");
	CHECK(config.plugins.max_file_bytes == 1048576);
	CHECK(config.run_directory == "/run/drpc-test");
	CHECK_FALSE(config.plugins.strict_permissions);
	CHECK(config.limits.max_message_bytes == 1048576);
	CHECK(config.limits.max_sessions == 16);
	CHECK(config.limits.max_sessions_per_uid == 4);
	CHECK(config.limits.reserved_sessions == 2);
	CHECK(config.limits.max_inflight_bytes == 8388608);
	CHECK(config.limits.max_inflight_bytes_per_uid == 4194304);
	CHECK(config.limits.message_timeout_ms == 100);
	CHECK(config.limits.send_timeout_ms == 200);
	CHECK(config.limits.idle_timeout_ms == 300);
	CHECK(config.server.spare_threads == 0);
	CHECK(config.server.max_threads == 8);
	CHECK(config.server.park_after_ms == 5);
	CHECK(config.server.shutdown_timeout_ms == 250);
	CHECK(config.log_level == drpc::log::Level::debug);
	// The host keeps `allow` for itself; the admin module takes no config.
	REQUIRE(config.modules.size() == 3);
	CHECK(config.modules.at("kv") == R"({"max_keys":10,"nested":{"a":[1,2]}})");
	CHECK(config.modules.at("echo") == "{}");
	CHECK(config.modules.at("hello") == "{}");
	REQUIRE(config.access.size() == 3);
	CHECK(config.access.at("kv") == drpc::host::AccessList{.uids = {1000, 1001}, .gids = {}, .everyone = false});
	CHECK(config.access.at("hello") == drpc::host::AccessList{.uids = {}, .gids = {27}, .everyone = false});
	CHECK(config.access.at("admin") == drpc::host::AccessList{.uids = {}, .gids = {}, .everyone = true});
}

TEST_CASE("config: isolation keys are the host's, not the plugin's")
{
	const HostConfig config = parse_config(
		R"({"plugins": {"isolation": "process"},
		    "modules": {"kv": {"max_keys": 5, "call_timeout_ms": 250, "memory_limit_bytes": 67108864,
		                       "user": 0, "group": "root", "ring_spin_us": 0},
		                "hello": {"isolation": "in-process"}}})",
		"/etc/drpc");
	CHECK(config.isolation.default_isolation == drpc::host::Isolation::process);
	const auto kv = config.isolation.for_module("kv");
	CHECK(kv.isolation == drpc::host::Isolation::process);
	CHECK(kv.call_timeout_ms == 250);
	CHECK(kv.memory_limit_bytes == uint64_t{64} << 20);
	CHECK(kv.uid == uid_t{0});
	CHECK(kv.gid == gid_t{0});
	CHECK(kv.ring_spin_us == uint32_t{0});
	CHECK_FALSE(config.isolation.for_module("echo").ring_spin_us); // the default
	CHECK(config.isolation.for_module("hello").isolation == drpc::host::Isolation::in_process);
	CHECK(config.isolation.for_module("echo").isolation == drpc::host::Isolation::process);
	CHECK(config.modules.at("kv") == R"({"max_keys":5})");
}

TEST_CASE("config: plugins.worker_cgroup")
{
	using Mode = drpc::host::WorkerCgroupChoice::Mode;
	CHECK(parse_config("{}", "/etc/drpc").isolation.worker_cgroup.mode == Mode::automatic);
	CHECK(parse_config(R"({"plugins": {"worker_cgroup": "auto"}})", "/etc/drpc").isolation.worker_cgroup.mode ==
	      Mode::automatic);
	CHECK(parse_config(R"({"plugins": {"worker_cgroup": "off"}})", "/etc/drpc").isolation.worker_cgroup.mode ==
	      Mode::off);
	const auto directory =
		parse_config(R"({"plugins": {"worker_cgroup": "/sys/fs/cgroup/drpc//workers/"}})", "/etc/drpc")
			.isolation.worker_cgroup;
	CHECK(directory.mode == Mode::directory);
	CHECK(directory.directory == "/sys/fs/cgroup/drpc/workers");
}

TEST_CASE("config: relative paths are resolved against the config's directory")
{
	const HostConfig config = parse_config(R"({"socket": {"path": "../x/./s.sock"}})", "/etc/drpc");
	CHECK(config.socket.path == "/etc/x/s.sock");
	const HostConfig relative_base = parse_config(R"({"plugins": {"directory": "p"}})", "conf");
	CHECK(relative_base.plugins.directory == std::filesystem::current_path() / "conf" / "p");
}

TEST_CASE("config: errors name the key")
{
	struct Case {
		const char *name;
		const char *json;
		const char *expected;
	};
	const Case cases[] = {
		{"not JSON", "{", "invalid JSON: "},
		{"trailing garbage", "{} x", "invalid JSON: "},
		{"not an object", "[]", "the configuration: expected an object"},
		{"unknown top-level key", R"({"sockets": {}})", "sockets: unknown key"},
		{"unknown nested key", R"({"socket": {"modee": "0600"}})", "socket.modee: unknown key"},
		{"section not an object", R"({"limits": 5})", "limits: expected an object"},
		{"negative integer", R"({"limits": {"max_message_bytes": -1}})",
	         "limits.max_message_bytes: expected an unsigned integer"},
		{"float", R"({"limits": {"max_message_bytes": 1.5}})",
	         "limits.max_message_bytes: expected an unsigned integer"},
		{"string for a number", R"({"limits": {"max_sessions": "10"}})",
	         "limits.max_sessions: expected an unsigned integer"},
		{"out of range", R"({"limits": {"max_sessions": 0}})",
	         "limits.max_sessions: 0 is out of range 1..1000000"},
		{"message limit too small", R"({"limits": {"max_message_bytes": 10}})",
	         "limits.max_message_bytes: 10 is out of range"},
		{"threads out of range", R"({"server": {"spare_threads": 100000}})",
	         "server.spare_threads: 100000 is out"},
		{"timeout as a string", R"({"server": {"shutdown_timeout_ms": "5s"}})",
	         "server.shutdown_timeout_ms: expected an unsigned integer"},
		{"bool as a string", R"({"socket": {"unlink_stale": "yes"}})",
	         "socket.unlink_stale: expected true or false"},
		{"mode as a number", R"({"socket": {"mode": 384}})", "socket.mode: expected a string"},
		{"mode not octal", R"({"socket": {"mode": "0800"}})", "socket.mode: expected an octal mode"},
		{"mode too long", R"({"socket": {"mode": "01777"}})", "socket.mode: expected an octal mode"},
		{"mode too short", R"({"socket": {"mode": "60"}})", "socket.mode: expected an octal mode"},
		{"empty socket path", R"({"socket": {"path": ""}})", "socket.path: expected a non-empty path"},
		{"path as a number", R"({"plugins": {"directory": 7}})", "plugins.directory: expected a string"},
		{"bad log level", R"({"log": {"level": "loud"}})", "log.level: expected \"debug\", \"info\""},
		{"log level not a string", R"({"log": {"level": 1}})", "log.level: expected a string"},
		{"modules not an object", R"({"modules": []})", "modules: expected an object"},
		{"module config not an object", R"({"modules": {"kv": 5}})", "modules.kv: expected an object"},
		{"file cap too small", R"({"plugins": {"max_file_bytes": 100}})",
	         "plugins.max_file_bytes: 100 is out of range"},
		{"allow not an object", R"({"modules": {"kv": {"allow": []}}})",
	         "modules.kv.allow: expected an object"},
		{"unknown allow key", R"({"modules": {"kv": {"allow": {"users": [1]}}}})",
	         "modules.kv.allow.users: unknown key"},
		{"uids not an array", R"({"modules": {"kv": {"allow": {"uids": 1000}}}})",
	         "modules.kv.allow.uids: expected an array"},
		{"uid as a name", R"({"modules": {"kv": {"allow": {"uids": ["daos"]}}}})",
	         "modules.kv.allow.uids: expected numeric ids from 0 to 4294967294, got \"daos\""},
		{"uid -1", R"({"modules": {"kv": {"allow": {"gids": [4294967295]}}}})",
	         "modules.kv.allow.gids: expected numeric ids"},
		{"admin config", R"({"modules": {"admin": {"max_keys": 1}}})",
	         "modules.admin.max_keys: unknown key (the built-in admin module takes only \"allow\")"},
		{"bad isolation", R"({"plugins": {"isolation": "thread"}})",
	         "plugins.isolation: expected \"in-process\" or \"process\", got \"thread\""},
		{"relative worker_cgroup", R"({"plugins": {"worker_cgroup": "sys/fs/cgroup/drpc"}})",
	         "plugins.worker_cgroup: expected \"auto\", \"off\" or the absolute path of a cgroup v2 directory, "
	         "got \"sys/fs/cgroup/drpc\""},
		{"worker_cgroup not a string", R"({"plugins": {"worker_cgroup": false}})",
	         "plugins.worker_cgroup: expected a string"},
		{"bad module isolation", R"({"modules": {"kv": {"isolation": 1}}})",
	         "modules.kv.isolation: expected a string"},
		{"worker limit in-process", R"({"modules": {"kv": {"call_timeout_ms": 100}}})",
	         "modules.kv: call_timeout_ms, memory_limit_bytes, user, group and sandbox need isolation \"process\""},
		{"memory limit too small", R"({"modules": {"kv": {"isolation": "process", "memory_limit_bytes": 10}}})",
	         "modules.kv.memory_limit_bytes: 10 is out of range"},
		{"ring spin in-process", R"({"modules": {"kv": {"ring_spin_us": 50}}})",
	         "modules.kv.ring_spin_us: a module in the host's process has no message rings; it needs isolation "
	         "\"process\""},
		{"ring spin too long", R"({"modules": {"kv": {"isolation": "process", "ring_spin_us": 1001}}})",
	         "modules.kv.ring_spin_us: 1001 is out of range"},
		{"ring spin negative", R"({"modules": {"kv": {"isolation": "process", "ring_spin_us": -1}}})",
	         "modules.kv.ring_spin_us: "},
		{"unknown user", R"({"modules": {"kv": {"isolation": "process", "user": "no-such-user-x"}}})",
	         "modules.kv.user: no such user \"no-such-user-x\""},
		{"duplicate key", R"({"socket": {"mode": "0600", "mode": "0666"}})", "mode: duplicate key"},
		{"duplicate section", R"({"log": {}, "log": {}})", "log: duplicate key"},
	};
	for (const Case &c : cases) {
		SUBCASE(c.name)
		{
			const std::string error = error_of(c.json);
			INFO("error: ", error);
			CHECK(error.find(c.expected) != std::string::npos);
		}
	}
}

TEST_CASE("config: equal keys in different objects are fine")
{
	CHECK_NOTHROW(
		(void)parse_config(R"({"modules": {"a": {"x": 1}, "b": {"x": 2}}, "socket": {"path": "s"}})", "/"));
}

TEST_CASE("config: octal modes")
{
	CHECK(drpc::host::parse_octal_mode("0600") == mode_t{0600});
	CHECK(drpc::host::parse_octal_mode("600") == mode_t{0600});
	CHECK(drpc::host::parse_octal_mode("0777") == mode_t{0777});
	CHECK(drpc::host::parse_octal_mode("0000") == mode_t{0});
	CHECK_FALSE(drpc::host::parse_octal_mode("1777"));
	CHECK_FALSE(drpc::host::parse_octal_mode(""));
	CHECK_FALSE(drpc::host::parse_octal_mode("-600"));
	CHECK_FALSE(drpc::host::parse_octal_mode("0x180"));
}

TEST_CASE("config: files")
{
	host_test::TempDir dir;
	SUBCASE("errors carry the file name")
	{
		host_test::write_file(dir / "bad.json", R"({"socket": {"modee": "0600"}})");
		try {
			(void)drpc::host::load_config_file(dir / "bad.json");
			FAIL("accepted");
		} catch (const ConfigError &e) {
			CHECK(std::string(e.what()) ==
			      "config " + (dir / "bad.json").string() + ": socket.modee: unknown key");
		}
	}
	SUBCASE("a missing file")
	{
		CHECK_THROWS_WITH_AS((void)drpc::host::load_config_file(dir / "none.json"),
		                     doctest::Contains("cannot open"), ConfigError);
	}
	SUBCASE("paths relative to the file")
	{
		host_test::write_file(dir / "c.json", R"({"plugins": {"directory": "plugins"}})");
		CHECK(drpc::host::load_config_file(dir / "c.json").plugins.directory == dir / "plugins");
	}
}

TEST_CASE("config: the shipped config/drpc-host.json")
{
	const HostConfig config =
		drpc::host::load_config_file(std::filesystem::path(DRPC_CONFIG_DIR) / "drpc-host.json");
	CHECK(config.socket.path.empty()); // the run directory's drpc-host.sock
	CHECK(config.run_directory.empty());
	CHECK(config.socket.mode == 0600);
	REQUIRE(config.modules.count("kv") == 1);
	CHECK(config.modules.at("kv").find("\"max_keys\":10000") != std::string::npos);
}
