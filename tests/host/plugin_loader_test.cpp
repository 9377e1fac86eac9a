// SPDX-License-Identifier: Apache-2.0
// The loader and the plugin manager's admission against real plugin files: a
// good one, and broken ones each refused with a clear reason while the rest load.
#include "host_support.hpp"

#include <plugin_file.hpp>
#include <plugin_loader.hpp>
#include <plugin_manager.hpp>
#include <runtime_dir.hpp>

#include <drpc/error.hpp>
#include <drpc/module_registry.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <sys/stat.h>
#include <unistd.h>

using drpc::host::PluginDirectory;
using drpc::host::PluginLoader;
using drpc::host::PluginManager;
using drpc::host::PluginModule;
using drpc::host::RuntimeDir;

namespace {

/// A response body with a size limit, as the server's.
class Body : public drpc::ResponseBody {
public:
	explicit Body(size_t limit = 1 << 20) : limit_(limit) {}
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

Answer call(drpc::Module &module, int32_t method, const std::string &body = {}, size_t limit = 1 << 20)
{
	Body out(limit);
	const drpc::CallContext context{.module = module.id(), .method = method, .sequence = 7, .peer = {}};
	const drpc::Status status = module.handle_call(
		context, std::span(reinterpret_cast<const uint8_t *>(body.data()), body.size()), out);
	return {status, out.text()};
}

/// A plugins directory, a runtime directory, a loader and the manager that
/// loads through them into a registry, as the host does.
struct Plugins {
	explicit Plugins(drpc::host::ModuleConfigs configs = {})
		: runtime({}, true), loader(runtime, std::move(configs))
	{
	}

	std::filesystem::path install(const std::string &name, const std::string &file_name = {})
	{
		return host_test::install_plugin(dir.path(), name, file_name);
	}

	void load(bool strict = true)
	{
		directory = std::make_unique<PluginDirectory>(dir.path(), strict);
		manager = std::make_unique<PluginManager>(loader, *directory, registry, std::chrono::seconds(5));
		manager->load_all();
	}

	/// The refusal of `file`, or "" when it was not refused.
	[[nodiscard]] std::string refusal(const std::string &file) const
	{
		for (const auto &failure : manager->failures()) {
			if (failure.source == dir / file)
				return failure.last_load_error;
		}
		return {};
	}

	/// The serving module `id`, or null.
	[[nodiscard]] std::shared_ptr<PluginModule> find(int32_t id) const
	{
		return std::dynamic_pointer_cast<PluginModule>(registry.find(id));
	}
	[[nodiscard]] std::vector<drpc::host::ModuleRecord> modules() const { return manager->list(); }
	[[nodiscard]] size_t failure_count() const { return manager->failures().size(); }

	host_test::TempDir dir;
	RuntimeDir runtime;
	PluginLoader loader;
	drpc::ModuleRegistry registry; // its modules need the runtime directory
	std::unique_ptr<PluginDirectory> directory;
	std::unique_ptr<PluginManager> manager;
};

bool constructor_ran(const char *tag) { return std::getenv((std::string("DRPC_TEST_RAN_") + tag).c_str()) != nullptr; }

} // namespace

TEST_CASE("loader: a good plugin loads and answers")
{
	host_test::LogCapture log;
	Plugins plugins(drpc::host::ModuleConfigs{{"good", R"({"greeting":"hi"})"}});
	plugins.install("good");
	plugins.load();
	REQUIRE(plugins.modules().size() == 1);
	CHECK(plugins.failure_count() == 0);

	std::shared_ptr<PluginModule> module = plugins.find(4242);
	REQUIRE(module);
	CHECK(module->id() == 4242);
	CHECK(module->name() == "good");
	CHECK(module->version() == "1.2.3");
	CHECK(module->source() == plugins.dir / "good.so");
	CHECK(module->runtime_copy().parent_path() == plugins.runtime.path());
	CHECK(std::filesystem::exists(module->runtime_copy()));
	CHECK(module->has_state_handoff());
	CHECK_FALSE(log.find({"INFO", "plugins", "loaded module 4242 (good 1.2.3) from", "good.so"}).empty());

	SUBCASE("echo")
	{
		const Answer answer = call(*module, 0, "ping");
		CHECK(answer.status == drpc::Status::SUCCESS);
		CHECK(answer.body == "ping");
	}
	SUBCASE("its config object as text") { CHECK(call(*module, 1).body == R"({"greeting":"hi"})"); }
	SUBCASE("an empty answer")
	{
		const Answer answer = call(*module, 4);
		CHECK(answer.status == drpc::Status::SUCCESS);
		CHECK(answer.body.empty());
	}
	SUBCASE("statuses come back as the plugin gave them")
	{
		CHECK(call(*module, 2).status == drpc::Status::FAILURE);        // the handler threw
		CHECK(call(*module, 9).status == drpc::Status::UNKNOWN_METHOD); // no such method
		CHECK(call(*module, 5).status == drpc::Status::FAILURE);        // 99 is not a drpc.Status
	}
	SUBCASE("a handler's failure text reaches the log, its drpc::plugin::Error status the caller")
	{
		CHECK(call(*module, 6).status == drpc::Status::FAILED_UNMARSHAL_PAYLOAD);
		CHECK_FALSE(log.find({"WARN", "plugins", "module 4242 method 6 failed: bad input\\x0aon two lines"})
		                    .empty());
		CHECK(call(*module, 2).status == drpc::Status::FAILURE);
		CHECK_FALSE(
			log.find({"WARN", "plugins", "module 4242 method 2 failed: method 2 always throws"}).empty());
		// A failure without an exception gives no text, and logs nothing.
		CHECK(call(*module, 9).status == drpc::Status::UNKNOWN_METHOD);
		CHECK(log.find({"method 9"}).empty());
	}
	SUBCASE("an answer over the limit cannot be reserved")
	{
		CHECK(call(*module, 0, std::string(100, 'x'), 10).status == drpc::Status::FAILED_MARSHAL);
	}
	SUBCASE("unloading removes the copy and does not pin the library")
	{
		const std::filesystem::path copy = module->runtime_copy();
		const std::weak_ptr<PluginModule> weak = module;
		module.reset();
		REQUIRE(plugins.manager->unload(4242).ok);
		CHECK(weak.expired());
		CHECK_FALSE(std::filesystem::exists(copy));
		CHECK(log.find({"pinned"}).empty());
		CHECK_FALSE(log.find({"unloaded module 4242"}).empty());
	}
}

TEST_CASE("loader: a plugin built against the frozen ABI-1 header loads and serves on the grown ABI")
{
	static_assert(sizeof(drpc_plugin) > DRPC_PLUGIN_SIZE_V1, "the struct has grown since ABI 1");
	host_test::LogCapture log;
	Plugins plugins;
	plugins.install("abi1");
	plugins.load();
	CHECK(plugins.failure_count() == 0);
	std::shared_ptr<PluginModule> module = plugins.find(4711);
	REQUIRE(module);
	const Answer answer = call(*module, 0, "old build");
	CHECK(answer.status == drpc::Status::SUCCESS);
	CHECK(answer.body == "old build");
	CHECK(call(*module, 1).status == drpc::Status::UNKNOWN_METHOD);
	CHECK_FALSE(module->has_state_handoff());
}

TEST_CASE("loader: a plugin needing the full protobuf runtime is refused by name, before it runs; the rest load")
{
	host_test::LogCapture log;
	Plugins plugins;
	plugins.install("full_protobuf");
	plugins.install("good");
	plugins.load();
	CHECK(plugins.refusal("full_protobuf.so").starts_with("needs libprotobuf.so."));
	CHECK(plugins.refusal("full_protobuf.so").find("optimize_for = LITE_RUNTIME") != std::string::npos);
	CHECK(plugins.refusal("full_protobuf.so").find("protobuf-lite") != std::string::npos);
	CHECK_FALSE(plugins.find(4800));
	CHECK(plugins.find(4242));

	SUBCASE("unless the load policy admits it (a plugin for a worker process)")
	{
		const PluginDirectory directory(plugins.dir.path(), true);
		drpc::host::LoadResult result = plugins.loader.load(
			directory, "full_protobuf.so", {}, drpc::host::LoadPolicy{.allow_full_protobuf = true});
		CHECK(result.error == "");
		CHECK(result.ok());
	}
}

TEST_CASE("loader: a library still mapped after unloading is reported as pinned")
{
	host_test::LogCapture log;
	Plugins plugins;
	plugins.install("pinned");
	plugins.load();
	REQUIRE(plugins.modules().size() == 1);
	const std::filesystem::path copy = plugins.find(4700)->runtime_copy();
	REQUIRE(plugins.manager->unload(4700).ok);
	CHECK_FALSE(log.find({"WARN", "plugins", "module 4700 (pinned 1.0.0)", "still mapped after unloading (pinned)"})
	                    .empty());
	CHECK_FALSE(std::filesystem::exists(copy));
}

TEST_CASE("loader: a module without a config entry gets {}")
{
	Plugins plugins;
	plugins.install("good");
	plugins.load();
	REQUIRE(plugins.find(4242));
	CHECK(call(*plugins.find(4242), 1).body == "{}");
}

TEST_CASE("loader: broken plugins are refused with a clear reason")
{
	struct Case {
		const char *name;
		const char *plugin; ///< nullptr: a text file
		const char *file;
		const char *expected;
	};
	const Case cases[] = {
		{"wrong ABI version", "wrong_abi", "wrong_abi.so", "plugin ABI version 999, this host speaks 1"},
		{"reserved module ID", "reserved", "reserved.so",
	         "module ID 0x7FFF0001 is in the range 0x7FFF0000..0x7FFFFFFF reserved for the host's built-in "
	         "modules"},
		{"no entry symbol", "no_entry", "no_entry.so", "no drpc_plugin_entry symbol"},
		{"throwing factory", "throwing", "throwing.so", "create() failed: out of cheese"},
		{"descriptor info differs from the section", "mismatch", "mismatch.so",
	         "the descriptor's info differs from the .drpc_plugin_info section"},
		{"an unresolved symbol (bound at load time)", "unresolved", "unresolved.so",
	         "undefined symbol: drpc_test_function_nobody_defines"},
		{"not a shared object", nullptr, "x.so", "not a shared object: no ELF magic"},
		{"an executable (PIE, so ET_DYN)", nullptr, "exe.so",
	         "no .drpc_plugin_info section: not a drpc plugin"},
	};
	for (const Case &c : cases) {
		SUBCASE(c.name)
		{
			host_test::LogCapture log;
			Plugins plugins;
			if (c.plugin != nullptr)
				plugins.install(c.plugin, c.file);
			else if (std::string(c.file) == "exe.so")
				std::filesystem::copy_file("/bin/true", plugins.dir / c.file);
			else
				host_test::write_file(plugins.dir / c.file, "this is not a plugin\n");
			plugins.install("good", "zz_good.so"); // loads after the broken one
			plugins.load();

			const std::string error = plugins.refusal(c.file);
			INFO("error: ", error);
			CHECK(error.find(c.expected) != std::string::npos);
			CHECK_FALSE(log.find({"ERROR", "plugins", "refused " + (plugins.dir / c.file).string() + ": ",
			                      c.expected})
			                    .empty());
			REQUIRE(plugins.modules().size() == 1);
			CHECK(plugins.modules().front().name == "good");
		}
	}
}

TEST_CASE("loader: refused before mapping means the plugin's code never ran")
{
	Plugins plugins;
	plugins.install("wrong_abi");
	plugins.install("reserved");
	plugins.install("mismatch");
	plugins.load();
	CHECK(plugins.failure_count() == 3);
	CHECK_FALSE(constructor_ran("wrong_abi"));
	CHECK_FALSE(constructor_ran("reserved"));
	CHECK(constructor_ran("mismatch")); // mapped, then refused: the control
}

TEST_CASE("loader: a duplicate module ID is refused, naming the ID and both files")
{
	host_test::LogCapture log;
	Plugins plugins;
	plugins.install("good", "a_good.so");
	plugins.install("twin", "b_twin.so");
	plugins.load();
	REQUIRE(plugins.modules().size() == 1);
	CHECK(plugins.modules().front().source == plugins.dir / "a_good.so");
	const std::string expected = "module ID 4242 is already served by " + (plugins.dir / "a_good.so").string();
	CHECK(plugins.refusal("b_twin.so").find(expected) != std::string::npos);
	CHECK_FALSE(log.find({"refused " + (plugins.dir / "b_twin.so").string(), expected}).empty());
}

TEST_CASE("loader: the same plugin under two file names")
{
	Plugins plugins;
	plugins.install("good", "a.so");
	plugins.install("good", "b.so");
	plugins.load();
	CHECK(plugins.modules().size() == 1);
	CHECK(plugins.refusal("b.so").find("module ID 4242 is already served by") != std::string::npos);
}

TEST_CASE("loader: every broken plugin in one directory, and the good one still loads")
{
	Plugins plugins;
	for (const char *name :
	     {"good", "twin", "throwing", "wrong_abi", "reserved", "no_entry", "mismatch", "unresolved"})
		plugins.install(name);
	host_test::write_file(plugins.dir / "x.so", "garbage");
	host_test::write_file(plugins.dir / "README", "not a candidate");
	host_test::write_file(plugins.dir / ".hidden.so", "not a candidate");
	plugins.load();
	REQUIRE(plugins.modules().size() == 1);
	CHECK(plugins.modules().front().id == 4242);
	CHECK(plugins.failure_count() == 8);
	CHECK(plugins.refusal("README").empty());
	CHECK(plugins.refusal(".hidden.so").empty());
}

TEST_CASE("loader: strict permissions")
{
	host_test::LogCapture log;
	Plugins plugins;
	const std::filesystem::path good = plugins.install("good");

	SUBCASE("a group-writable plugin file is refused")
	{
		::chmod(good.c_str(), 0775);
		plugins.load();
		CHECK(plugins.modules().empty());
		CHECK(plugins.refusal("good.so").find("writable by group (mode 0775") != std::string::npos);
	}
	SUBCASE("an other-writable plugin file is refused")
	{
		::chmod(good.c_str(), 0757);
		plugins.load();
		CHECK(plugins.refusal("good.so").find("writable by others") != std::string::npos);
	}
	SUBCASE("a file of another user is refused")
	{
		REQUIRE(::chown(good.c_str(), 12345, 12345) == 0);
		plugins.load();
		CHECK(plugins.refusal("good.so").find("owned by uid 12345") != std::string::npos);
	}
	SUBCASE("without strict_permissions the same file loads")
	{
		::chmod(good.c_str(), 0777);
		plugins.load(false);
		CHECK(plugins.modules().size() == 1);
	}
	SUBCASE("a group-writable plugins directory is refused whole")
	{
		::chmod(plugins.dir.path().c_str(), 0770);
		CHECK_THROWS_WITH_AS(
			PluginDirectory(plugins.dir.path(), true),
			doctest::Contains(
				("plugins directory " + plugins.dir.path().string() + ": writable by group").c_str()),
			drpc::Error);
		CHECK_NOTHROW(PluginDirectory(plugins.dir.path(), false));
	}
	SUBCASE("a symbolic link is refused")
	{
		std::filesystem::create_symlink(good, plugins.dir / "link.so");
		plugins.load();
		CHECK(plugins.refusal("link.so").find("symbolic link") != std::string::npos);
		CHECK(plugins.modules().size() == 1);
	}
	SUBCASE("a FIFO is refused without blocking")
	{
		REQUIRE(::mkfifo((plugins.dir / "fifo.so").c_str(), 0600) == 0);
		plugins.load();
		CHECK(plugins.refusal("fifo.so").find("not a regular file") != std::string::npos);
	}
	SUBCASE("a missing plugins directory")
	{
		CHECK_THROWS_WITH_AS(PluginDirectory(plugins.dir / "none", true),
		                     doctest::Contains((plugins.dir / "none").c_str()), drpc::SystemError);
	}
}

TEST_CASE("loader: two generations of one file side by side, with state handed over")
{
	Plugins plugins;
	plugins.install("good");
	const PluginDirectory directory(plugins.dir.path(), true);
	drpc::host::LoadResult first = plugins.loader.load(directory, "good.so", {});
	drpc::host::LoadResult second = plugins.loader.load(directory, "good.so", {});
	REQUIRE(first.ok());
	REQUIRE(second.ok());
	CHECK(first.generation != second.generation);
	CHECK(first.module->mapped_copy() != second.module->mapped_copy());
	CHECK(first.module->mapped_copy().filename() == "good." + std::to_string(first.generation) + ".so");

	CHECK(call(*first.module, 0, "a").body == "a");
	CHECK(call(*first.module, 0, "b").body == "b");
	const std::string state = first.module->export_state();
	CHECK(state == "calls=2");
	second.module->import_state(std::span(reinterpret_cast<const uint8_t *>(state.data()), state.size()));
	CHECK(call(*second.module, 3).body == "calls=2");
	CHECK(call(*first.module, 3).body.empty()); // separate instances, separate copies of the code

	// The admission callback sees the record before anything is mapped.
	drpc::host::LoadResult refused = plugins.loader.load(directory, "good.so", [](const drpc_plugin_info &info) {
		return std::optional<std::string>("no room for " + std::string(info.name));
	});
	CHECK_FALSE(refused.ok());
	CHECK(refused.error == "no room for good");
	REQUIRE(refused.info.has_value());
	CHECK(refused.info->module_id == 4242);
}

TEST_CASE("loader: a new generation of a file already served is admitted, the same module from another file not")
{
	Plugins plugins;
	plugins.install("good");
	plugins.load();
	REQUIRE(plugins.modules().size() == 1);
	plugins.install("good", "other.so");
	const drpc::host::ModuleOperation other = plugins.manager->load("other.so");
	CHECK_FALSE(other.ok);
	CHECK(other.error.find("module ID 4242 is already served by " + (plugins.dir / "good.so").string()) !=
	      std::string::npos);
	const drpc::host::ModuleOperation again = plugins.manager->load("good.so");
	CHECK(again.ok);
	REQUIRE(again.module);
	CHECK(again.module->generation == 2);
	CHECK(plugins.modules().size() == 1);
}

TEST_CASE("loader: a plugin exporting many dynamic symbols loads, with one warning naming the count")
{
	host_test::LogCapture log;
	Plugins plugins;
	plugins.install("chatty");
	plugins.install("good");
	plugins.load();
	CHECK(plugins.find(4900));
	CHECK(plugins.find(4242));
	const auto warnings = [&] {
		size_t count = 0;
		for (const std::string &line : log.lines())
			count += line.find("dynamic symbols (more than 8)") != std::string::npos ? 1 : 0;
		return count;
	};
	const std::string warning =
		log.find({"WARN", "plugins", "chatty.so exports ", "dynamic symbols (more than 8)", "drpc_plugin_dep"});
	INFO("warning: ", warning);
	CHECK_FALSE(warning.empty());
	CHECK(log.find({"good.so exports"}).empty());
	CHECK(warnings() == 1);

	SUBCASE("a reload does not say it again")
	{
		REQUIRE(plugins.manager->reload(4900).ok);
		CHECK(warnings() == 1);
	}
}

TEST_CASE("loader: a plugin's self-description is read, checked and kept with its module")
{
	host_test::LogCapture log;
	Plugins plugins;
	plugins.install("described");
	plugins.load();
	const std::shared_ptr<PluginModule> module = plugins.find(4300);
	REQUIRE(module);
	const auto description = module->description();
	REQUIRE(description);
	REQUIRE(description->methods.size() == 2);
	CHECK(description->methods[0].method == 0);
	CHECK(description->methods[0].name == "Ping");
	CHECK(description->methods[0].request_type == "described.Ping");
	CHECK(description->methods[0].response_type == "described.Pong");
	CHECK(description->methods[1].request_type == "described.Ping.Detail"); // a nested type is found
	CHECK(description->descriptor_set.find("described.proto") != std::string::npos);
	// The table's record carries the same description, for admin DESCRIBE.
	REQUIRE(plugins.modules().size() == 1);
	CHECK(plugins.modules()[0].description == description);
	CHECK(log.find({"self-description"}).empty());
}

TEST_CASE("loader: a broken self-description is ignored with one log line saying why; the module serves")
{
	struct Case {
		const char *mode;
		const char *why;
	};
	const Case cases[] = {
		{"oversized", "descriptor set is 1048577 bytes, more than 1048576"},
		{"malformed", "descriptor set: malformed wire data in the set"},
		{"unknown_type", "method Nested: type described.Missing is not defined in the descriptor set"},
		{"bad_name", "method 0 (number 0): name has a character other than [A-Za-z0-9_]"},
		{"too_many", "description has 1025 methods, more than 1024"},
		{"twice", "method 1 (number 0) Nested: its number or name is described twice"},
	};
	for (const Case &c : cases) {
		SUBCASE(c.mode)
		{
			host_test::LogCapture log;
			Plugins plugins(
				drpc::host::ModuleConfigs{{"described", std::string("{\"mode\":\"") + c.mode + "\"}"}});
			plugins.install("described");
			plugins.load();
			const std::shared_ptr<PluginModule> module = plugins.find(4300);
			REQUIRE(module);
			CHECK_FALSE(module->description());
			CHECK_FALSE(log.find({"WARN", "plugins",
			                      "described.so: module 4300 (described 1.0.0): its self-description is "
			                      "ignored (it serves undescribed): ",
			                      c.why})
			                    .empty());
			const auto lines = log.lines();
			CHECK(std::count_if(lines.begin(), lines.end(), [](const std::string &line) {
				      return line.find("self-description") != std::string::npos;
			      }) == 1);
			CHECK(call(*module, 0, "still").body == "still");
		}
	}
	SUBCASE("methods without a set are kept: their types must come from elsewhere")
	{
		host_test::LogCapture log;
		Plugins plugins(drpc::host::ModuleConfigs{{"described", R"({"mode":"no_set"})"}});
		plugins.install("described");
		plugins.load();
		REQUIRE(plugins.find(4300));
		const auto description = plugins.find(4300)->description();
		REQUIRE(description);
		CHECK(description->methods.size() == 2);
		CHECK(description->descriptor_set.empty());
	}
	SUBCASE("describe() returning NULL: undescribed, nothing logged")
	{
		host_test::LogCapture log;
		Plugins plugins(drpc::host::ModuleConfigs{{"described", R"({"mode":"none"})"}});
		plugins.install("described");
		plugins.load();
		REQUIRE(plugins.find(4300));
		CHECK_FALSE(plugins.find(4300)->description());
		CHECK(log.find({"self-description"}).empty());
	}
}

TEST_CASE("loader: a plugin built against plugin.h version 2 loads; nothing past its struct_size is read")
{
	::unsetenv("DRPC_TEST_RAN_v2_describe");
	host_test::LogCapture log;
	Plugins plugins;
	plugins.install("v2");
	plugins.install("abi1");
	plugins.load();
	CHECK(plugins.failure_count() == 0);
	REQUIRE(plugins.find(4302));
	CHECK_FALSE(plugins.find(4302)->description());
	CHECK_FALSE(constructor_ran("v2_describe"));
	CHECK(call(*plugins.find(4302), 0).status == drpc::Status::SUCCESS);
	REQUIRE(plugins.find(4711));
	CHECK_FALSE(plugins.find(4711)->description());
}
