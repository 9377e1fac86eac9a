// SPDX-License-Identifier: Apache-2.0
// drpc-ctl's admin commands (modules, load, unload, reload, stats), run as
// the built binary: against a canned admin module for exact output and exit
// codes, and against the host's real admin module over real test plugins.

#include "ctl_support.hpp"

#include <admin_module.hpp>

#include "admin.pb.h"

#include <drpc/lifecycle/lifecycle.hpp>
#include <drpc/log.hpp>
#include <drpc/server.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#ifndef DRPC_TEST_PLUGIN_DIR
#error "DRPC_TEST_PLUGIN_DIR must name the build directory of the host's test plugins"
#endif

using ctl_test::run_ctl;
using namespace std::chrono_literals;

namespace {

constexpr int32_t admin_id = 0x7FFF0000;
constexpr int64_t t0 = 1700000000000; // 2023-11-14 22:13:20 UTC

bool contains(const std::string &text, const std::string &part) { return text.find(part) != std::string::npos; }

/// Stands in for the host's admin module: answers each method with a canned
/// status and body, and keeps the request bodies it got.
class CannedAdmin : public drpc::Module {
public:
	int32_t id() const noexcept override { return admin_id; }

	void answer(int32_t method, drpc::Status status, std::string body = {})
	{
		const std::lock_guard lock(mutex_);
		answers_[method] = {status, std::move(body)};
	}

	[[nodiscard]] std::string request(int32_t method) const
	{
		const std::lock_guard lock(mutex_);
		const auto it = requests_.find(method);
		return it == requests_.end() ? std::string() : it->second;
	}

	drpc::Status handle_call(const drpc::CallContext &context, std::span<const uint8_t> body,
	                         drpc::ResponseBody &out) override
	{
		const std::lock_guard lock(mutex_);
		requests_[context.method].assign(reinterpret_cast<const char *>(body.data()), body.size());
		const auto it = answers_.find(context.method);
		if (it == answers_.end())
			return drpc::Status::UNKNOWN_METHOD;
		if (it->second.first != drpc::Status::SUCCESS)
			return it->second.first;
		return out.assign(it->second.second) ? drpc::Status::SUCCESS : drpc::Status::FAILED_MARSHAL;
	}

private:
	mutable std::mutex mutex_;
	std::map<int32_t, std::pair<drpc::Status, std::string>> answers_;
	std::map<int32_t, std::string> requests_;
};

admin::ModuleInfo module_info(int32_t id, const std::string &name, const std::string &version,
                              const std::string &source, uint64_t generation, int64_t since, uint64_t calls,
                              uint64_t failures, const std::string &state, const std::string &error = {})
{
	admin::ModuleInfo info;
	info.set_id(id);
	info.set_name(name);
	info.set_version(version);
	info.set_source_file(source);
	info.set_generation(generation);
	info.set_loaded_since_unix_ms(since);
	info.set_calls_served(calls);
	info.set_failures(failures);
	info.set_state(state);
	info.set_last_load_error(error);
	return info;
}

std::string op_response(bool ok, const std::string &error, const admin::ModuleInfo *module)
{
	admin::ModuleOpResponse response;
	response.set_ok(ok);
	response.set_error(error);
	if (module != nullptr)
		*response.mutable_module() = *module;
	return response.SerializeAsString();
}

/// A server on a fresh socket whose admin module is canned; local time is UTC.
struct CannedFixture {
	ctl_test::TempDir dir;
	std::string socket = (dir.path() / "drpc.sock").string();
	std::shared_ptr<CannedAdmin> admin = std::make_shared<CannedAdmin>();
	drpc::DomainSocketServer server{socket, 0600};

	CannedFixture()
	{
		drpc::log::set_level(drpc::log::Level::warn);
		::setenv("TZ", "UTC", 1);
		server.register_module(admin);
		server.start();
	}

	[[nodiscard]] ctl_test::Run run(std::vector<std::string> args) const
	{
		args.insert(args.begin(), {"--socket", socket});
		return run_ctl(args);
	}
};

/// A real host in miniature: a plugins directory with good.so, the plugin
/// manager, and the admin module on a server.
struct HostFixture {
	ctl_test::TempDir dir;
	std::string socket = (dir.path() / "drpc.sock").string();
	std::filesystem::path plugins = dir.path() / "plugins";
	drpc::DomainSocketServer server{socket, 0600};
	std::unique_ptr<drpc::host::Lifecycle> manager;

	HostFixture()
	{
		drpc::log::set_level(drpc::log::Level::error);
		std::filesystem::create_directory(plugins);
		std::filesystem::permissions(plugins, std::filesystem::perms::owner_all);
		install("good");
		manager = std::make_unique<drpc::host::Lifecycle>(
			drpc::host::LifecycleOptions{.plugins_dir = plugins, .watch = false}, server.modules());
		manager->load_all();
		server.register_module(
			std::make_shared<drpc::host::AdminModule>(*manager, [this] { return server.stats(); }));
		server.start();
	}

	~HostFixture()
	{
		// The manager unloads plugins only once nothing can call them.
		server.shutdown();
	}

	void install(const std::string &name) const
	{
		const auto target = plugins / (name + ".so");
		std::filesystem::copy_file(std::filesystem::path(DRPC_TEST_PLUGIN_DIR) / (name + ".so"), target,
		                           std::filesystem::copy_options::overwrite_existing);
		std::filesystem::permissions(target, std::filesystem::perms(0755));
	}

	[[nodiscard]] ctl_test::Run run(std::vector<std::string> args) const
	{
		args.insert(args.begin(), {"--socket", socket});
		return run_ctl(args);
	}
};

} // namespace

TEST_CASE("drpc-ctl modules prints the listing as a table, or as JSON")
{
	CannedFixture fixture;
	admin::ListModulesResponse listing;
	*listing.add_modules() = module_info(admin_id, "admin", "0.1.0", "", 1, t0, 3, 1, "builtin");
	admin::ModuleInfo *good = listing.add_modules();
	*good = module_info(4242, "good", "1.2.3", "/srv/plugins/good.so", 7, t0 + 1000, 120, 4, "serving",
	                    "/srv/plugins/good.so: not an ELF file");
	good->set_isolation("process");
	good->set_crashes(2);
	good->set_restarts(3);
	good->set_last_cause("killed by signal 11 (SIGSEGV)");
	*listing.add_modules() =
		module_info(1000, "hello", "2.0.0", "/srv/plugins/hello.so", 2, t0 + 2000, 5, 0, "draining");
	listing.mutable_modules(2)->set_isolation("in-process");
	admin::LoadFailure *failure = listing.add_failures();
	failure->set_source_file("/srv/plugins/bad.so");
	failure->set_error("ABI version 9, this host speaks 1");
	failure->set_when_unix_ms(t0 + 3000);
	fixture.admin->answer(0, drpc::Status::SUCCESS, listing.SerializeAsString());

	SUBCASE("table")
	{
		const auto run = fixture.run({"modules"});
		CHECK(run.err == "");
		CHECK(run.exit_code == 0);
		CHECK(run.out ==
		      "ID          NAME   VERSION  GEN  STATE     ISOLATION   CALLS  FAILS  CRASHES  RESTARTS  SINCE  "
		      "              SOURCE\n"
		      "0x7FFF0000  admin  0.1.0    1    builtin   -           3      1      0        0         "
		      "2023-11-14 22:13:20  -\n"
		      "4242        good   1.2.3    7    serving   process     120    4      2        3         "
		      "2023-11-14 22:13:21  /srv/plugins/good.so\n"
		      "1000        hello  2.0.0    2    draining  in-process  5      0      0        0         "
		      "2023-11-14 22:13:22  /srv/plugins/hello.so\n"
		      "last error of 4242 (good): /srv/plugins/good.so: not an ELF file\n"
		      "last worker exit of 4242 (good): killed by signal 11 (SIGSEGV)\n"
		      "\n"
		      "refused files:\n"
		      "  /srv/plugins/bad.so  2023-11-14 22:13:23  ABI version 9, this host speaks 1\n");
		// LIST_MODULES was asked with an empty request.
		CHECK(fixture.admin->request(0) == "");
	}
	SUBCASE("JSON, with the .proto field names")
	{
		const auto run = fixture.run({"modules", "--json"});
		CHECK(run.exit_code == 0);
		CHECK(run.out.starts_with(R"({"modules":[{"id":2147418112,"name":"admin","version":"0.1.0",)"));
		CHECK(contains(run.out, R"("failures":[{"source_file":"/srv/plugins/bad.so",)"));
		CHECK(contains(run.out, R"("state":"draining")"));
		CHECK(run.out.ends_with("}\n"));
		CHECK(std::count(run.out.begin(), run.out.end(), '\n') == 1);
	}
	SUBCASE("no refused files: no section")
	{
		listing.clear_failures();
		fixture.admin->answer(0, drpc::Status::SUCCESS, listing.SerializeAsString());
		const auto run = fixture.run({"modules"});
		CHECK(run.exit_code == 0);
		CHECK_FALSE(contains(run.out, "refused files"));
	}
}

TEST_CASE("drpc-ctl stats prints the counters")
{
	CannedFixture fixture;
	admin::StatsResponse stats;
	stats.set_sessions_open(1);
	stats.set_sessions_total(2);
	stats.set_calls_served(3);
	stats.set_uptime_ms(93784000); // 1 day, 2 h, 3 min, 4 s
	stats.set_modules_loaded(2);
	stats.set_sessions_parked(4);
	stats.set_inflight_bytes(5);
	stats.set_inflight_peak_bytes(6);
	stats.set_sessions_refused(7);
	stats.set_refused_session_limit(6);
	stats.set_refused_no_thread(1);
	stats.set_closed_idle_timeout(8);
	stats.set_closed_send_timeout(9);
	fixture.admin->answer(4, drpc::Status::SUCCESS, stats.SerializeAsString());

	SUBCASE("table")
	{
		const auto run = fixture.run({"stats"});
		CHECK(run.exit_code == 0);
		CHECK(run.out == "sessions open               1\n"
		                 "sessions total              2\n"
		                 "sessions parked             4\n"
		                 "calls served                3\n"
		                 "in-flight bytes             5 (peak 6)\n"
		                 "uptime                      1d 02:03:04\n"
		                 "plugin modules              2\n"
		                 "sessions refused            7\n"
		                 "refused: session limits     6\n"
		                 "refused: no descriptor      0\n"
		                 "refused: no thread          1\n"
		                 "closed: in-flight budget    0\n"
		                 "closed: message_timeout_ms  0\n"
		                 "closed: idle_timeout_ms     8\n"
		                 "closed: send_timeout_ms     9\n"
		                 "closed: framing error       0\n");
	}
	SUBCASE("JSON")
	{
		const auto run = fixture.run({"stats", "--json"});
		CHECK(run.exit_code == 0);
		CHECK(run.out == R"({"sessions_open":1,"sessions_total":2,"calls_served":3,"uptime_ms":93784000,)"
		                 R"("modules_loaded":2,"sessions_parked":4,"inflight_bytes":5,"inflight_peak_bytes":6,)"
		                 R"("sessions_refused":7,"refused_session_limit":6,"refused_no_descriptor":0,)"
		                 R"("refused_no_thread":1,"closed_over_budget":0,"closed_message_timeout":0,)"
		                 R"("closed_idle_timeout":8,"closed_send_timeout":9,"closed_framing_error":0})"
		                 "\n");
	}
}

TEST_CASE("drpc-ctl load, unload and reload send the request and print the module")
{
	CannedFixture fixture;
	const admin::ModuleInfo good =
		module_info(4242, "good", "1.2.3", "/srv/plugins/good.so", 3, t0, 0, 0, "serving");
	for (int32_t method : {1, 2, 3})
		fixture.admin->answer(method, drpc::Status::SUCCESS, op_response(true, "", &good));

	SUBCASE("load of a bare file name sends it as it is")
	{
		const auto run = fixture.run({"load", "good.so"});
		CHECK(run.err == "");
		CHECK(run.exit_code == 0);
		CHECK(run.out == "loaded module 4242 (good 1.2.3) from /srv/plugins/good.so, generation 3\n");
		admin::LoadRequest request;
		REQUIRE(request.ParseFromString(fixture.admin->request(1)));
		CHECK(request.path() == "good.so");
	}
	SUBCASE("load of a relative path sends it absolute")
	{
		const auto run = fixture.run({"load", "some/dir/../good.so"});
		CHECK(run.exit_code == 0);
		admin::LoadRequest request;
		REQUIRE(request.ParseFromString(fixture.admin->request(1)));
		CHECK(request.path() == (std::filesystem::current_path() / "some/good.so").string());
	}
	SUBCASE("unload with a hex ID")
	{
		const auto run = fixture.run({"unload", "0x1092"});
		CHECK(run.exit_code == 0);
		CHECK(run.out == "unloaded module 4242 (good 1.2.3) from /srv/plugins/good.so, generation 3\n");
		admin::UnloadRequest request;
		REQUIRE(request.ParseFromString(fixture.admin->request(2)));
		CHECK(request.id() == 4242);
	}
	SUBCASE("reload, options after the ID")
	{
		const auto run = fixture.run({"reload", "4242", "--timeout", "5000"});
		CHECK(run.exit_code == 0);
		CHECK(run.out == "reloaded module 4242 (good 1.2.3) from /srv/plugins/good.so, generation 3\n");
		admin::ReloadRequest request;
		REQUIRE(request.ParseFromString(fixture.admin->request(3)));
		CHECK(request.id() == 4242);
	}
	SUBCASE("--json prints the answer")
	{
		const auto run = fixture.run({"reload", "--json", "4242"});
		CHECK(run.exit_code == 0);
		CHECK(run.out.starts_with(R"({"ok":true,"error":"","module":{"id":4242,"name":"good",)"));
	}
	SUBCASE("a draining module says so")
	{
		const admin::ModuleInfo draining =
			module_info(4242, "good", "1.2.3", "/srv/plugins/good.so", 3, t0, 0, 0, "draining");
		fixture.admin->answer(2, drpc::Status::SUCCESS, op_response(true, "", &draining));
		CHECK(fixture.run({"unload", "4242"}).out ==
		      "unloaded module 4242 (good 1.2.3) from /srv/plugins/good.so, generation 3 (draining)\n");
	}
}

TEST_CASE("drpc-ctl exits 1 when the host refuses or answers another status")
{
	CannedFixture fixture;
	for (int32_t method : {1, 2, 3})
		fixture.admin->answer(method, drpc::Status::SUCCESS,
		                      op_response(false, "permission denied: uid 4711", nullptr));

	SUBCASE("ok = false: the reason on stderr, nothing on stdout")
	{
		for (const std::vector<std::string> &args :
		     {std::vector<std::string>{"load", "good.so"}, {"unload", "4242"}, {"reload", "4242"}}) {
			CAPTURE(args[0]);
			const auto run = fixture.run(args);
			CHECK(run.exit_code == 1);
			CHECK(run.out == "");
			CHECK(contains(run.err, "drpc-ctl: " + args[0]));
			CHECK(contains(run.err, "permission denied: uid 4711"));
		}
	}
	SUBCASE("ok = false with --json: the JSON still printed")
	{
		const auto run = fixture.run({"unload", "4242", "--json"});
		CHECK(run.exit_code == 1);
		CHECK(run.out == R"({"ok":false,"error":"permission denied: uid 4711"})"
		                 "\n");
	}
	SUBCASE("a status other than SUCCESS")
	{
		fixture.admin->answer(4, drpc::Status::FAILURE);
		const auto run = fixture.run({"stats"});
		CHECK(run.exit_code == 1);
		CHECK(run.out == "");
		CHECK(contains(run.err, "stats: the host answered FAILURE"));
	}
	SUBCASE("a server without an admin module")
	{
		ctl_test::TempDir dir;
		const std::string socket = (dir.path() / "plain.sock").string();
		drpc::DomainSocketServer plain(socket, 0600);
		plain.register_module(std::make_shared<ctl_test::EchoModule>());
		plain.start();
		const auto run = run_ctl({"--socket", socket, "modules"});
		CHECK(run.exit_code == 1);
		CHECK(contains(run.err, "UNKNOWN_MODULE"));
		CHECK(contains(run.err, "drpc-host"));
	}
}

TEST_CASE("drpc-ctl admin commands exit 2 on a bad command line and 3 without an answer")
{
	CannedFixture fixture;
	struct Case {
		const char *name;
		std::vector<std::string> args;
		const char *mentions;
	};
	const Case cases[] = {
		{"load without a file", {"load"}, "load: missing FILE"},
		{"unload without an ID", {"unload"}, "unload: missing ID"},
		{"reload with a bad ID", {"reload", "12x"}, "reload ID: expected a 32-bit integer"},
		{"unload with an ID too large", {"unload", "0x80000000"}, "unload ID"},
		{"two files", {"load", "a.so", "b.so"}, "unexpected argument 'b.so'"},
		{"modules with an argument", {"modules", "all"}, "unexpected argument 'all'"},
		{"an unknown option", {"stats", "--verbose"}, "stats: unknown option '--verbose'"},
		{"--json with a value", {"modules", "--json=yes"}, "--json takes no value"},
		{"a bad timeout", {"stats", "--timeout", "soon"}, "--timeout"},
	};
	for (const Case &c : cases) {
		SUBCASE(c.name)
		{
			const auto run = fixture.run(c.args);
			CHECK(run.exit_code == 2);
			CHECK(run.out == "");
			CHECK(contains(run.err, c.mentions));
			CHECK(contains(run.err, "--help"));
			CHECK(fixture.server.stats().calls_served == 0);
		}
	}
	SUBCASE("no server: exit 3, naming the socket")
	{
		const std::string socket = (fixture.dir.path() / "nobody.sock").string();
		const auto run = run_ctl({"--socket", socket, "modules"});
		CHECK(run.exit_code == 3);
		CHECK(contains(run.err, socket));
	}
	SUBCASE("an answer that is not the response message: exit 3")
	{
		fixture.admin->answer(0, drpc::Status::SUCCESS, "\xff\xff\xff");
		const auto run = fixture.run({"modules"});
		CHECK(run.exit_code == 3);
		CHECK(contains(run.err, "does not decode as admin.ListModulesResponse"));
	}
}

TEST_CASE("drpc-ctl admin commands explain themselves")
{
	for (const char *command : {"modules", "load", "unload", "reload", "stats", "list"}) {
		CAPTURE(command);
		const auto run = run_ctl({command, "--help"});
		CHECK(run.exit_code == 0);
		CHECK(run.err == "");
		CHECK(contains(run.out, std::string("usage: drpc-ctl [--socket PATH] ") + command));
		CHECK(contains(run.out, "--json"));
		CHECK(contains(run_ctl({"--help"}).out, std::string("\n  ") + command + " "));
	}
}

TEST_CASE("drpc-ctl against the host's admin module and real plugins")
{
	HostFixture host;

	const auto modules = host.run({"modules"});
	CHECK(modules.exit_code == 0);
	CHECK(modules.out.starts_with("ID          NAME   VERSION  GEN  STATE    ISOLATION   CALLS  FAILS  CRASHES"));
	CHECK(contains(modules.out, "serving  in-process"));
	CHECK(contains(modules.out, "\n0x7FFF0000  admin  "));
	CHECK(contains(modules.out, "\n4242        good   1.2.3    "));
	CHECK(contains(modules.out, (host.plugins / "good.so").string() + "\n"));

	SUBCASE("reload, then unload, then load again")
	{
		const auto reload = host.run({"reload", "4242"});
		CHECK(reload.err == "");
		CHECK(reload.exit_code == 0);
		CHECK(reload.out.starts_with("reloaded module 4242 (good 1.2.3) from " +
		                             (host.plugins / "good.so").string()));

		const auto unload = host.run({"unload", "0x1092"});
		CHECK(unload.exit_code == 0);
		CHECK(unload.out.starts_with("unloaded module 4242 (good 1.2.3)"));
		const auto after = host.run({"modules"});
		CAPTURE(after.out);
		CHECK_FALSE(contains(after.out, "good"));

		const auto again = host.run({"unload", "4242"});
		CHECK(again.exit_code == 1);
		CHECK(contains(again.err, "4242"));

		const auto load = host.run({"load", (host.plugins / "good.so").string()});
		CHECK(load.exit_code == 0);
		CHECK(load.out.starts_with("loaded module 4242 (good 1.2.3)"));
	}
	SUBCASE("a plugin that is refused is listed as such")
	{
		host.install("wrong_abi");
		const auto load = host.run({"load", "wrong_abi.so"});
		CHECK(load.exit_code == 1);
		CHECK(contains(load.err, "wrong_abi.so"));
		const auto listing = host.run({"modules"});
		CHECK(contains(listing.out, "\nrefused files:\n  " + (host.plugins / "wrong_abi.so").string() + "  "));
	}
	SUBCASE("the admin module stays")
	{
		const auto run = host.run({"unload", "0x7fff0000"});
		CHECK(run.exit_code == 1);
		CHECK(contains(run.err, "built-in admin module"));
	}
	SUBCASE("stats")
	{
		const auto run = host.run({"stats", "--json"});
		CHECK(run.exit_code == 0);
		// The earlier modules call was a session; whether it has closed yet
		// is up to the scheduler, so only the totals are checked.
		CHECK_FALSE(contains(run.out, R"("sessions_total":0,)"));
		CHECK_FALSE(contains(run.out, R"("calls_served":0,)"));
		CHECK(contains(run.out, R"("modules_loaded":1,)"));
		// Nothing here came near a limit.
		CHECK(contains(run.out, R"("sessions_refused":0,)"));
		CHECK(contains(run.out, R"("closed_framing_error":0})"));
	}
}

TEST_CASE("drpc-ctl list, describe and call by name against the host's DESCRIBE")
{
	HostFixture host;
	host.install("described");
	REQUIRE(host.run({"load", "described.so"}).exit_code == 0);

	SUBCASE("list: every module, and the methods of those that describe themselves")
	{
		const auto run = host.run({"list"});
		CAPTURE(run.err);
		CHECK(run.exit_code == 0);
		CAPTURE(run.out);
		CHECK(run.out.starts_with("0x7FFF0000  admin "));
		CHECK(contains(run.out, "\n  admin.Describe     5  admin.DescribeRequest -> admin.DescribeResponse\n"));
		CHECK(contains(run.out, "\n4242  good 1.2.3  (does not describe itself: call it by number)\n"));
		CHECK(contains(run.out,
		               "\n4300  described 1.0.0\n  described.Ping    0  described.Ping -> described.Pong\n"
		               "  described.Nested  1  described.Ping.Detail -> described.Ping.Detail\n"));
		const auto json = host.run({"list", "--json"});
		CHECK(json.exit_code == 0);
		CHECK(contains(json.out,
		               R"({"id":4300,"name":"described","version":"1.0.0","described":true,"methods":[)"));
	}
	SUBCASE("describe: the methods, then their types as .proto text")
	{
		const auto run = host.run({"describe", "described"});
		CAPTURE(run.err);
		CHECK(run.exit_code == 0);
		CHECK(run.out.starts_with(
			"module 4300 described 1.0.0\n"
			"  rpc Ping (described.Ping) returns (described.Pong);  // method 0\n"
			"  rpc Nested (described.Ping.Detail) returns (described.Ping.Detail);  // method 1\n"));
		CHECK(contains(run.out, "\n// described.Ping\nmessage Ping {\n"));
		CHECK(contains(run.out, "  string text = 1;\n"));
		const auto one = host.run({"describe", "described.Nested"});
		CHECK(one.exit_code == 0);
		CHECK(contains(one.out, "// described.Ping.Detail\nmessage Detail {\n  int32 level = 1;\n}\n"));
		CHECK_FALSE(contains(one.out, "Pong"));
		const auto by_id = host.run({"describe", "4300.0"});
		CHECK(by_id.exit_code == 0);
		CHECK(contains(by_id.out, "rpc Ping "));
	}
	SUBCASE("call MODULE.METHOD '{json}': types from the host, the answer as JSON")
	{
		const auto run = host.run({"call", "described.Ping", R"({"text":"hi","detail":{"level":3}})"});
		CAPTURE(run.err);
		CHECK(run.exit_code == 0);
		// The plugin echoes, so the Ping comes back read as a Pong.
		CHECK(run.out == "status: SUCCESS\n{\"text\":\"hi\"}\n");
		CHECK(host.run({"call", "4300.1", R"({"level":-2})"}).out == "status: SUCCESS\n{\"level\":-2}\n");
		CHECK(host.run({"call", "described.0"}).out == "status: SUCCESS\n{\"text\":\"\"}\n");
		// The admin module describes itself too.
		const auto stats = host.run({"call", "admin.Stats"});
		CHECK(stats.exit_code == 0);
		CHECK(contains(stats.out, "status: SUCCESS\n{\"sessions_open\":"));
		CHECK(contains(stats.out, R"("modules_loaded":2,)"));
	}
	SUBCASE("a module that does not describe itself is called by method number")
	{
		const auto run = host.run({"call", "good.0", "--body-hex", "0a01"});
		CHECK(run.exit_code == 0);
		CHECK(run.out == "status: SUCCESS\n0a01\n");
		const auto named = host.run({"call", "good.Echo", "{}"});
		CHECK(named.exit_code == 2);
		CHECK(contains(named.err, "module good has no method 'Echo' (it does not describe itself: call its "
		                          "methods by number)"));
	}
	SUBCASE("what the host does not have is a usage error naming it")
	{
		const auto method = host.run({"call", "described.Pong", "{}"});
		CHECK(method.exit_code == 2);
		CHECK(contains(method.err, "module described has no method 'Pong' (its methods: Ping, Nested)"));
		const auto module = host.run({"call", "nosuch.Get", "{}"});
		CHECK(module.exit_code == 2);
		CHECK(contains(module.err, "the host says: no module named 'nosuch' is serving"));
		const auto json = host.run({"call", "described.Ping", R"({"nope":1})"});
		CHECK(json.exit_code == 2);
		CHECK(contains(json.err, "nope"));
		const auto both = host.run({"call", "described.Ping", "--module", "4300"});
		CHECK(both.exit_code == 2);
		CHECK(contains(both.err, "give MODULE.METHOD or --module and --method, not both"));
		CHECK(host.run({"call", "described"}).exit_code == 2);
		CHECK(host.run({"describe", "described.Nope"}).exit_code == 2);
	}
}
