// SPDX-License-Identifier: Apache-2.0
// The admin module driven through handle_call() with encoded requests, over a
// real plugin manager and real test plugins in a temp plugins directory.
#include "host_support.hpp"

#include <admin_messages.hpp>
#include <admin_module.hpp>
#include <drpc/lifecycle/reserved_ids.hpp>
#include <plugin_file.hpp>
#include <plugin_loader.hpp>
#include <plugin_manager.hpp>
#include <runtime_dir.hpp>

#include "admin.pb.h"

#include <drpc/module_registry.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <unistd.h>

using drpc::host::AdminMethod;
using drpc::host::AdminModule;
using namespace std::chrono_literals;

namespace {

/// A response body with a size limit, as the server's.
class Body : public drpc::ResponseBody {
public:
	explicit Body(size_t limit) : limit_(limit) {}
	std::span<uint8_t> reserve(size_t size) noexcept override
	{
		if (size > limit_)
			return {};
		bytes_.assign(size, 0);
		return bytes_;
	}
	[[nodiscard]] std::string text() const { return {bytes_.begin(), bytes_.end()}; }

private:
	size_t limit_;
	std::vector<uint8_t> bytes_;
};

struct Answer {
	drpc::Status status;
	std::string body;
};

/// Someone who is neither root nor the user the tests run as.
uid_t stranger_uid() { return ::geteuid() == 4711 ? 4712 : 4711; }

/// A plugins directory with a manager over it and the admin module in front.
struct Fixture {
	host_test::TempDir dir;
	drpc::ModuleRegistry registry;
	drpc::host::Lifecycle manager{{.plugins_dir = dir.path(), .watch = false}, registry};
	drpc::ServerStats server_stats{.sessions_open = 2,
	                               .sessions_total = 5,
	                               .sessions_refused = 1,
	                               .calls_served = 17,
	                               .sessions_parked = 3,
	                               .inflight_bytes = 4096,
	                               .inflight_peak_bytes = 65536,
	                               .refused_session_limit = 1,
	                               .closed_over_budget = 2,
	                               .closed_message_timeout = 6,
	                               .closed_idle_timeout = 7,
	                               .closed_send_timeout = 8,
	                               .closed_framing_error = 9};
	AdminModule admin{manager, [this] { return server_stats; }, std::chrono::steady_clock::now() - 1500ms};

	Answer call(AdminMethod method, const std::string &body, uid_t uid = ::geteuid(), size_t limit = 1 << 20)
	{
		return call(static_cast<int32_t>(method), body, uid, limit);
	}

	Answer call(int32_t method, const std::string &body, uid_t uid = ::geteuid(), size_t limit = 1 << 20)
	{
		Body out(limit);
		const drpc::CallContext context{.module = drpc::host::admin_module_id,
		                                .method = method,
		                                .sequence = 1,
		                                .peer = {.pid = 1234, .uid = uid, .gid = 0}};
		const drpc::Status status = admin.handle_call(
			context, std::span(reinterpret_cast<const uint8_t *>(body.data()), body.size()), out);
		return {status, out.text()};
	}

	admin::ListModulesResponse list(uid_t uid = ::geteuid())
	{
		const Answer answer =
			call(AdminMethod::LIST_MODULES, admin::ListModulesRequest().SerializeAsString(), uid);
		REQUIRE(answer.status == drpc::Status::SUCCESS);
		admin::ListModulesResponse response;
		REQUIRE(response.ParseFromString(answer.body));
		return response;
	}

	admin::ModuleOpResponse operation(AdminMethod method, const google::protobuf::MessageLite &request,
	                                  uid_t uid = ::geteuid())
	{
		const Answer answer = call(method, request.SerializeAsString(), uid);
		REQUIRE(answer.status == drpc::Status::SUCCESS);
		admin::ModuleOpResponse response;
		REQUIRE(response.ParseFromString(answer.body));
		return response;
	}

	admin::ModuleOpResponse load(const std::string &path, uid_t uid = ::geteuid())
	{
		admin::LoadRequest request;
		request.set_path(path);
		return operation(AdminMethod::LOAD, request, uid);
	}

	admin::ModuleOpResponse unload(int32_t id, uid_t uid = ::geteuid())
	{
		admin::UnloadRequest request;
		request.set_id(id);
		return operation(AdminMethod::UNLOAD, request, uid);
	}

	admin::ModuleOpResponse reload(int32_t id, uid_t uid = ::geteuid())
	{
		admin::ReloadRequest request;
		request.set_id(id);
		return operation(AdminMethod::RELOAD, request, uid);
	}

	/// Calls plugin module `id` through the registry, as the server would.
	Answer call_plugin(int32_t id, int32_t method, const std::string &body = {})
	{
		const std::shared_ptr<drpc::Module> module = registry.find(id);
		REQUIRE(module);
		Body out(1 << 20);
		const drpc::CallContext context{.module = id, .method = method, .sequence = 1, .peer = {}};
		const drpc::Status status = module->handle_call(
			context, std::span(reinterpret_cast<const uint8_t *>(body.data()), body.size()), out);
		return {status, out.text()};
	}
};

bool contains(const std::string &text, const std::string &part) { return text.find(part) != std::string::npos; }

} // namespace

TEST_CASE("admin: the module's identity")
{
	const host_test::LogCapture log;
	Fixture fixture;
	CHECK(fixture.admin.id() == 0x7FFF0000);
	CHECK(fixture.admin.name() == "admin");
}

TEST_CASE("admin: LIST_MODULES shows the admin module, the plugins and the refused files")
{
	host_test::LogCapture log;
	Fixture fixture;

	SUBCASE("with no plugins: the admin module alone, as builtin")
	{
		const auto before = std::chrono::system_clock::now();
		const admin::ListModulesResponse listing = fixture.list();
		REQUIRE(listing.modules_size() == 1);
		const admin::ModuleInfo &self = listing.modules(0);
		CHECK(self.id() == 0x7FFF0000);
		CHECK(self.name() == "admin");
		CHECK_FALSE(self.version().empty());
		CHECK(self.state() == "builtin");
		CHECK(self.source_file().empty());
		CHECK(self.calls_served() == 1); // this very call
		CHECK(self.failures() == 0);
		// Started 1.5 s before the fixture: its "since" lies before this test began.
		CHECK(self.loaded_since_unix_ms() < drpc::host::unix_ms(before));
		CHECK(listing.failures_size() == 0);
		CHECK_FALSE(log.find({"DEBUG", "admin", "pid 1234 uid", "LIST_MODULES"}).empty());
	}
	SUBCASE("a loaded plugin and a refused file")
	{
		host_test::install_plugin(fixture.dir.path(), "good");
		host_test::install_plugin(fixture.dir.path(), "wrong_abi");
		fixture.manager.load_all();
		(void)fixture.call_plugin(4242, 0, "ping");
		(void)fixture.call_plugin(4242, 9); // an unknown method: a failure

		const admin::ListModulesResponse listing = fixture.list();
		REQUIRE(listing.modules_size() == 2);
		CHECK(listing.modules(0).name() == "admin");
		const admin::ModuleInfo &good = listing.modules(1);
		CHECK(good.id() == 4242);
		CHECK(good.name() == "good");
		CHECK(good.version() == "1.2.3");
		CHECK(good.source_file() == (fixture.dir / "good.so").string());
		CHECK(good.state() == "serving");
		CHECK(good.generation() >= 1);
		CHECK(good.loaded_since_unix_ms() > 0);
		CHECK(good.last_load_error().empty());
		CHECK(good.isolation() == "in-process");
		CHECK(good.crashes() == 0);
		CHECK(good.restarts() == 0);
		CHECK(good.last_cause().empty());

		REQUIRE(listing.failures_size() == 1);
		CHECK(listing.failures(0).source_file() == (fixture.dir / "wrong_abi.so").string());
		CHECK_FALSE(listing.failures(0).error().empty());
		CHECK(listing.failures(0).when_unix_ms() > 0);
	}
}

TEST_CASE("admin: LOAD, UNLOAD and RELOAD change what the registry serves")
{
	host_test::LogCapture log;
	Fixture fixture;
	host_test::install_plugin(fixture.dir.path(), "good");

	const admin::ModuleOpResponse loaded = fixture.load("good.so");
	REQUIRE(loaded.ok());
	CHECK(loaded.error().empty());
	CHECK(loaded.module().id() == 4242);
	CHECK(loaded.module().name() == "good");
	CHECK(loaded.module().source_file() == (fixture.dir / "good.so").string());
	CHECK(fixture.registry.contains(4242));
	CHECK(fixture.call_plugin(4242, 0, "ping").body == "ping");
	CHECK_FALSE(log.find({"INFO", "admin", "pid 1234 uid", "LOAD 'good.so'", "module 4242 (good 1.2.3)"}).empty());

	SUBCASE("LOAD by a path in the plugins directory")
	{
		const admin::ModuleOpResponse again = fixture.load((fixture.dir / "good.so").string());
		CHECK(again.ok());
		CHECK(again.module().generation() > loaded.module().generation());
	}
	SUBCASE("UNLOAD takes it out, and a second UNLOAD fails")
	{
		const admin::ModuleOpResponse unloaded = fixture.unload(4242);
		CHECK(unloaded.ok());
		CHECK(unloaded.module().id() == 4242);
		CHECK_FALSE(fixture.registry.contains(4242));
		CHECK(fixture.list().modules_size() == 1);
		CHECK_FALSE(log.find({"INFO", "admin", "UNLOAD module 4242"}).empty());

		const admin::ModuleOpResponse twice = fixture.unload(4242);
		CHECK_FALSE(twice.ok());
		CHECK(contains(twice.error(), "4242"));
		CHECK_FALSE(log.find({"WARN", "admin", "UNLOAD module 4242 failed"}).empty());
	}
	SUBCASE("RELOAD swaps a new build in, which takes the old one's state")
	{
		(void)fixture.call_plugin(4242, 0, "one");
		const admin::ModuleOpResponse reloaded = fixture.reload(4242);
		REQUIRE(reloaded.ok());
		CHECK(reloaded.module().id() == 4242);
		CHECK(reloaded.module().generation() > loaded.module().generation());
		CHECK(reloaded.module().state() == "serving");
		// good.so's method 3 answers the state its predecessor exported.
		CHECK(contains(fixture.call_plugin(4242, 3).body, "calls="));
		// The old build had no call running: it is gone, neither draining nor pinned.
		const admin::ListModulesResponse listing = fixture.list();
		REQUIRE(listing.modules_size() == 2);
		CHECK(listing.modules(1).generation() == reloaded.module().generation());
		CHECK_FALSE(log.find({"INFO", "admin", "RELOAD module 4242"}).empty());
	}
}

TEST_CASE("admin: operations that cannot be done answer SUCCESS with ok = false and why")
{
	host_test::LogCapture log;
	Fixture fixture;
	host_test::install_plugin(fixture.dir.path(), "wrong_abi");
	host_test::install_plugin(fixture.dir.path(), "good", "outside.so");

	struct Case {
		const char *name;
		admin::ModuleOpResponse (*run)(Fixture &);
		const char *mentions;
	};
	const Case cases[] = {
		{"LOAD of a missing file", [](Fixture &f) { return f.load("missing.so"); }, "missing.so"},
		{"LOAD of a refused plugin", [](Fixture &f) { return f.load("wrong_abi.so"); }, "wrong_abi.so"},
		{"LOAD of a file outside the plugins directory", [](Fixture &f) { return f.load("/tmp/outside.so"); },
	         "plugins directory"},
		{"LOAD of nothing", [](Fixture &f) { return f.load(""); }, "needs a path"},
		{"LOAD of a hidden file, which the scan ignores", [](Fixture &f) { return f.load(".hidden.so"); },
	         "a directory scan ignores it too"},
		{"LOAD of a backup, which the scan ignores", [](Fixture &f) { return f.load("x.so.bak"); },
	         "a directory scan ignores it too"},
		{"LOAD of a text file, which the scan ignores", [](Fixture &f) { return f.load("notes.txt"); },
	         "a directory scan ignores it too"},
		{"UNLOAD of a module nobody serves", [](Fixture &f) { return f.unload(77); }, "77"},
		{"RELOAD of a module nobody serves", [](Fixture &f) { return f.reload(77); }, "77"},
		{"UNLOAD of the admin module", [](Fixture &f) { return f.unload(0x7FFF0000); },
	         "built-in admin module; it cannot be unloaded"},
		{"RELOAD of the admin module", [](Fixture &f) { return f.reload(0x7FFF0000); },
	         "built-in admin module; it cannot be reloaded"},
		{"UNLOAD of another reserved ID", [](Fixture &f) { return f.unload(0x7FFF0001); }, "reserved range"},
		{"RELOAD of the last reserved ID", [](Fixture &f) { return f.reload(0x7FFFFFFF); }, "reserved range"},
	};
	for (const Case &c : cases) {
		SUBCASE(c.name)
		{
			const admin::ModuleOpResponse response = c.run(fixture);
			CHECK_FALSE(response.ok());
			CHECK(contains(response.error(), c.mentions));
			CHECK_FALSE(log.find({"WARN", "admin", "pid 1234", "failed"}).empty());
			CHECK(fixture.manager.size() == 0);
			CHECK(fixture.list().modules_size() == 1);
		}
	}
}

TEST_CASE("admin: only root and the host's user may change the plugins")
{
	host_test::LogCapture log;
	Fixture fixture;
	host_test::install_plugin(fixture.dir.path(), "good");
	const uid_t stranger = stranger_uid();
	const std::string denied = "permission denied: uid " + std::to_string(stranger);
	// Opened for reading, so that the request is read and refused by name.
	fixture.admin.set_read_access({.uids = {stranger}, .gids = {}, .everyone = false});

	SUBCASE("a stranger's LOAD, UNLOAD and RELOAD are refused and change nothing")
	{
		const admin::ModuleOpResponse load = fixture.load("good.so", stranger);
		CHECK_FALSE(load.ok());
		CHECK(contains(load.error(), denied));
		CHECK_FALSE(fixture.registry.contains(4242));

		REQUIRE(fixture.load("good.so").ok());
		const uint64_t generation = fixture.list().modules(1).generation();
		const admin::ModuleOpResponse unload = fixture.unload(4242, stranger);
		const admin::ModuleOpResponse reload = fixture.reload(4242, stranger);
		for (const admin::ModuleOpResponse *refused : {&unload, &reload}) {
			CHECK_FALSE(refused->ok());
			CHECK(contains(refused->error(), denied));
		}
		CHECK(fixture.registry.contains(4242));
		CHECK(fixture.list().modules(1).generation() == generation);
		CHECK_FALSE(log.find({"WARN", "admin", "uid " + std::to_string(stranger), "LOAD", denied}).empty());
	}
	SUBCASE("a stranger's repeated refusals are logged rate-limited")
	{
		for (int i = 0; i < 20; ++i)
			CHECK_FALSE(fixture.load("good.so", stranger).ok());
		size_t lines = 0;
		for (const std::string &line : log.lines())
			lines += line.find(denied) != std::string::npos ? 1 : 0;
		CHECK(lines >= 1);
		CHECK(lines <= 5);
	}
	SUBCASE("a stranger the config opens the module to may list and read the statistics")
	{
		CHECK(fixture.list(stranger).modules_size() == 1);
		CHECK(fixture.call(AdminMethod::STATS, "", stranger).status == drpc::Status::SUCCESS);
		CHECK(fixture.call(AdminMethod::DESCRIBE, "", stranger).status == drpc::Status::SUCCESS);
	}
	SUBCASE("root may")
	{
		CHECK(fixture.load("good.so", 0).ok());
		CHECK(fixture.reload(4242, 0).ok());
		CHECK(fixture.unload(4242, 0).ok());
	}
}

TEST_CASE("admin: by default nobody but root and the host's user may call it at all")
{
	host_test::LogCapture log;
	Fixture fixture;
	host_test::install_plugin(fixture.dir.path(), "good");
	const uid_t stranger = stranger_uid();

	SUBCASE("every method answers a stranger FAILURE, before reading the request")
	{
		for (AdminMethod method : {AdminMethod::LIST_MODULES, AdminMethod::STATS, AdminMethod::LOAD,
		                           AdminMethod::UNLOAD, AdminMethod::RELOAD})
			CHECK(fixture.call(method, "", stranger).status == drpc::Status::FAILURE);
		CHECK(fixture.call(99, "", stranger).status == drpc::Status::FAILURE);
		CHECK_FALSE(fixture.registry.contains(4242));
		CHECK_FALSE(
			log.find({"WARN", "access", "uid " + std::to_string(stranger), "modules.admin.allow"}).empty());
	}
	SUBCASE("a huge LOAD from a stranger costs one short log line and echoes nothing")
	{
		admin::LoadRequest request;
		request.set_path(std::string(8 << 20, 'A'));
		CHECK(fixture.call(AdminMethod::LOAD, request.SerializeAsString(), stranger).status ==
		      drpc::Status::FAILURE);
		for (const std::string &line : log.lines())
			CHECK(line.size() < 1024);
	}
	SUBCASE("a huge LOAD from someone who may read is answered without echoing the path")
	{
		fixture.admin.set_read_access({.uids = {}, .gids = {}, .everyone = true});
		admin::LoadRequest request;
		request.set_path(std::string(8 << 20, 'A'));
		for (uid_t uid : {stranger, ::geteuid()}) {
			const admin::ModuleOpResponse answer = fixture.operation(AdminMethod::LOAD, request, uid);
			CHECK_FALSE(answer.ok());
			CHECK(answer.error().size() < 1024);
		}
		for (const std::string &line : log.lines())
			CHECK(line.size() < 1024);
	}
	SUBCASE("a gid in the list opens the reads to its members")
	{
		fixture.admin.set_read_access({.uids = {}, .gids = {4321}, .everyone = false});
		Body out(1 << 20);
		const drpc::CallContext context{.module = drpc::host::admin_module_id,
		                                .method = static_cast<int32_t>(AdminMethod::STATS),
		                                .sequence = 1,
		                                .peer = {.pid = 1234, .uid = stranger, .gid = 4321}};
		CHECK(fixture.admin.handle_call(context, {}, out) == drpc::Status::SUCCESS);
		CHECK(fixture.call(AdminMethod::STATS, "", stranger).status == drpc::Status::FAILURE);
	}
}

TEST_CASE("admin: STATS reports the server's counters, the uptime and the plugins serving")
{
	const host_test::LogCapture log;
	Fixture fixture;
	host_test::install_plugin(fixture.dir.path(), "good");
	fixture.manager.load_all();

	const Answer answer = fixture.call(AdminMethod::STATS, admin::StatsRequest().SerializeAsString());
	REQUIRE(answer.status == drpc::Status::SUCCESS);
	admin::StatsResponse stats;
	REQUIRE(stats.ParseFromString(answer.body));
	CHECK(stats.sessions_open() == 2);
	CHECK(stats.sessions_total() == 5);
	CHECK(stats.calls_served() == 17);
	CHECK(stats.uptime_ms() >= 1500);
	CHECK(stats.modules_loaded() == 1);
	CHECK(stats.sessions_parked() == 3);
	CHECK(stats.inflight_bytes() == 4096);
	CHECK(stats.inflight_peak_bytes() == 65536);
	CHECK(stats.sessions_refused() == 1);
	CHECK(stats.refused_session_limit() == 1);
	CHECK(stats.refused_no_descriptor() == 0);
	CHECK(stats.refused_no_thread() == 0);
	CHECK(stats.closed_over_budget() == 2);
	CHECK(stats.closed_message_timeout() == 6);
	CHECK(stats.closed_idle_timeout() == 7);
	CHECK(stats.closed_send_timeout() == 8);
	CHECK(stats.closed_framing_error() == 9);

	SUBCASE("without a stats source the server's counters are zero")
	{
		AdminModule bare(fixture.manager, {});
		Body out(1 << 20);
		const drpc::CallContext context{.module = bare.id(), .method = 4, .sequence = 1, .peer = {}};
		REQUIRE(bare.handle_call(context, {}, out) == drpc::Status::SUCCESS);
		admin::StatsResponse zero;
		REQUIRE(zero.ParseFromString(out.text()));
		CHECK(zero.sessions_total() == 0);
		CHECK(zero.modules_loaded() == 1);
	}
}

TEST_CASE("admin: DESCRIBE gives what the serving modules say of themselves, the admin module's own first")
{
	Fixture fixture;
	host_test::install_plugin(fixture.dir.path(), "described");
	host_test::install_plugin(fixture.dir.path(), "good");
	fixture.manager.load_all();
	const auto describe = [&fixture](const std::string &name) {
		admin::DescribeRequest request;
		request.set_name(name);
		const Answer answer = fixture.call(AdminMethod::DESCRIBE, request.SerializeAsString());
		REQUIRE(answer.status == drpc::Status::SUCCESS);
		admin::DescribeResponse response;
		REQUIRE(response.ParseFromString(answer.body));
		return response;
	};

	const admin::DescribeResponse all = describe("");
	CHECK(all.error() == "");
	REQUIRE(all.modules_size() == 3);
	const admin::DescribedModule &own = all.modules(0);
	CHECK(own.id() == drpc::host::admin_module_id);
	CHECK(own.name() == "admin");
	CHECK(own.described());
	REQUIRE(own.methods_size() == 6);
	CHECK(own.methods(5).method() == AdminMethod::DESCRIBE);
	CHECK(own.methods(5).name() == "Describe");
	CHECK(own.methods(5).request_type() == "admin.DescribeRequest");
	CHECK(contains(own.descriptor_set(), "admin.proto"));
	CHECK(all.modules(1).id() == 4242);
	CHECK_FALSE(all.modules(1).described());
	CHECK(all.modules(1).methods_size() == 0);
	CHECK(all.modules(2).id() == 4300);
	CHECK(all.modules(2).described());
	CHECK(all.modules(2).methods(0).name() == "Ping");
	CHECK(contains(all.modules(2).descriptor_set(), "described.proto"));

	const admin::DescribeResponse one = describe("described");
	REQUIRE(one.modules_size() == 1);
	CHECK(one.modules(0).version() == "1.0.0");
	const admin::DescribeResponse none = describe("gone\n");
	CHECK(none.modules_size() == 0);
	CHECK(none.error() == "no module named 'gone\\x0a' is serving");
}

TEST_CASE("admin: bad calls get the status that names the failure")
{
	const host_test::LogCapture log;
	Fixture fixture;
	host_test::install_plugin(fixture.dir.path(), "good");

	SUBCASE("a body that is not the request message")
	{
		// A varint that never ends: no message decodes from it.
		const std::string garbage = "\xff\xff\xff";
		for (const AdminMethod method : {AdminMethod::LIST_MODULES, AdminMethod::LOAD, AdminMethod::UNLOAD,
		                                 AdminMethod::RELOAD, AdminMethod::STATS, AdminMethod::DESCRIBE}) {
			CAPTURE(static_cast<int>(method));
			CHECK(fixture.call(method, garbage).status == drpc::Status::FAILED_UNMARSHAL_PAYLOAD);
		}
		CHECK(fixture.manager.size() == 0);
	}
	SUBCASE("an unknown method")
	{
		for (const int32_t method : {6, 99, -1}) {
			CAPTURE(method);
			CHECK(fixture.call(method, "").status == drpc::Status::UNKNOWN_METHOD);
		}
	}
	SUBCASE("an answer over the server's message limit")
	{
		REQUIRE(fixture.load("good.so").ok());
		CHECK(fixture.call(AdminMethod::LIST_MODULES, "", ::geteuid(), 8).status ==
		      drpc::Status::FAILED_MARSHAL);
	}
	SUBCASE("failed calls count in the admin module's own row")
	{
		(void)fixture.call(77, "");
		(void)fixture.call(AdminMethod::STATS, "\xff");
		const admin::ModuleInfo self = fixture.list().modules(0);
		CHECK(self.calls_served() == 3);
		CHECK(self.failures() == 2);
	}
}
