// SPDX-License-Identifier: Apache-2.0
// Reading the host configuration: a schema walk over nlohmann::json that
// names the path of whatever it refuses.
#include "config.hpp"

#include "worker/sandbox.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <grp.h>
#include <initializer_list>
#include <pwd.h>
#include <set>
#include <span>
#include <vector>

#ifndef DRPC_HOST_DEFAULT_PLUGIN_DIR
#define DRPC_HOST_DEFAULT_PLUGIN_DIR "/usr/local/lib/drpc/plugins"
#endif

namespace drpc::host {
namespace {

using json = nlohmann::json;

/// Config files are small; anything larger is a mistake, not a config.
constexpr size_t max_config_bytes = 16 << 20;

std::string join(const std::string &path, std::string_view key)
{
	return path.empty() ? std::string(key) : path + "." + std::string(key);
}

/// One JSON object of the schema: refuses keys it does not know, then reads
/// the known ones into their settings.
class Section {
public:
	Section(const json &value, std::string path, std::initializer_list<std::string_view> keys)
		: Section(value, std::move(path), std::span(keys.begin(), keys.size()))
	{
	}
	Section(const json &value, std::string path, std::span<const std::string_view> keys)
		: value_(value), path_(std::move(path))
	{
		if (!value_.is_object())
			throw ConfigError((path_.empty() ? std::string("the configuration") : path_) +
			                  ": expected an object");
		for (const auto &[key, unused] : value_.items()) {
			if (std::find(keys.begin(), keys.end(), key) == keys.end())
				throw ConfigError(join(path_, key) + ": unknown key");
		}
	}

	/// The value at `key`, or null when absent.
	[[nodiscard]] const json *find(std::string_view key) const
	{
		const auto found = value_.find(std::string(key));
		return found == value_.end() ? nullptr : &*found;
	}
	[[nodiscard]] std::string path(std::string_view key) const { return join(path_, key); }

	void read(std::string_view key, bool &out) const
	{
		if (const json *value = find(key)) {
			if (!value->is_boolean())
				throw ConfigError(path(key) + ": expected true or false");
			out = value->get<bool>();
		}
	}

	void read(std::string_view key, uint64_t &out, uint64_t min, uint64_t max) const
	{
		if (const json *value = find(key)) {
			if (!value->is_number_unsigned())
				throw ConfigError(path(key) + ": expected an unsigned integer");
			const auto number = value->get<uint64_t>();
			if (number < min || number > max)
				throw ConfigError(path(key) + ": " + std::to_string(number) + " is out of range " +
				                  std::to_string(min) + ".." + std::to_string(max));
			out = number;
		}
	}

	/// An array of uids or gids.
	void read_ids(std::string_view key, std::vector<uint32_t> &out) const
	{
		const json *value = find(key);
		if (value == nullptr)
			return;
		if (!value->is_array())
			throw ConfigError(path(key) + ": expected an array of numeric ids");
		out.clear();
		for (const json &id : *value) {
			// (uint32_t)-1 means "no id" to chown(2) and setresuid(2).
			if (!id.is_number_unsigned() || id.get<uint64_t>() >= UINT32_MAX)
				throw ConfigError(path(key) + ": expected numeric ids from 0 to " +
				                  std::to_string(UINT32_MAX - 1) + ", got " + id.dump(-1, ' ', true));
			out.push_back(static_cast<uint32_t>(id.get<uint64_t>()));
		}
	}

	[[nodiscard]] const std::string *string(std::string_view key) const
	{
		const json *value = find(key);
		if (value == nullptr)
			return nullptr;
		if (!value->is_string())
			throw ConfigError(path(key) + ": expected a string");
		return value->get_ptr<const std::string *>();
	}

	/// A path; relative ones are taken from `base`. `may_be_empty` keeps ""
	/// as "not set".
	void read_path(std::string_view key, std::filesystem::path &out, const std::filesystem::path &base,
	               bool may_be_empty = false) const
	{
		const std::string *text = string(key);
		if (text == nullptr)
			return;
		if (text->empty()) {
			if (!may_be_empty)
				throw ConfigError(path(key) + ": expected a non-empty path");
			out.clear();
			return;
		}
		if (text->find('\0') != std::string::npos)
			throw ConfigError(path(key) + ": a path cannot contain NUL");
		out = (base / *text).lexically_normal();
	}

private:
	const json &value_;
	std::string path_;
};

void read_socket(const Section &root, HostConfig::Socket &socket, const std::filesystem::path &base)
{
	const json *value = root.find("socket");
	if (value == nullptr)
		return;
	const Section section(*value, "socket", {"path", "mode", "unlink_stale"});
	section.read_path("path", socket.path, base);
	if (const std::string *mode = section.string("mode")) {
		const auto parsed = parse_octal_mode(*mode);
		if (!parsed)
			throw ConfigError(section.path("mode") +
			                  ": expected an octal mode from \"0000\" to \"0777\" such as "
			                  "\"0600\", got \"" +
			                  *mode + "\"");
		socket.mode = *parsed;
	}
	section.read("unlink_stale", socket.unlink_stale);
}

Isolation read_isolation_name(const Section &section)
{
	const std::string *text = section.string("isolation");
	if (*text == "in-process")
		return Isolation::in_process;
	if (*text == "process")
		return Isolation::process;
	throw ConfigError(section.path("isolation") + ": expected \"in-process\" or \"process\", got \"" + *text +
	                  "\"");
}

/// "auto", "off" or the absolute path of a cgroup v2 directory.
WorkerCgroupChoice read_worker_cgroup(const Section &section)
{
	const std::string *text = section.string("worker_cgroup");
	if (*text == "auto")
		return {};
	if (*text == "off")
		return {WorkerCgroupChoice::Mode::off, {}};
	if (!text->starts_with('/'))
		throw ConfigError(section.path("worker_cgroup") +
		                  ": expected \"auto\", \"off\" or the absolute path of a cgroup v2 directory, got \"" +
		                  *text + "\"");
	std::filesystem::path directory = std::filesystem::path(*text).lexically_normal();
	if (directory.filename().empty() && directory.has_relative_path())
		directory = directory.parent_path(); // "/a/b/" names "/a/b"
	return {WorkerCgroupChoice::Mode::directory, directory};
}

void read_plugins(const Section &root, HostConfig::Plugins &plugins, const std::filesystem::path &base,
                  IsolationConfig &isolation)
{
	const json *value = root.find("plugins");
	if (value == nullptr)
		return;
	const Section section(*value, "plugins",
	                      {"directory", "runtime_dir", "strict_permissions", "watch", "drain_timeout_ms",
	                       "max_file_bytes", "isolation", "worker_cgroup"});
	if (section.find("isolation") != nullptr)
		isolation.default_isolation = read_isolation_name(section);
	if (section.find("worker_cgroup") != nullptr)
		isolation.worker_cgroup = read_worker_cgroup(section);
	section.read_path("directory", plugins.directory, base);
	section.read_path("runtime_dir", plugins.runtime_dir, base, true);
	section.read("strict_permissions", plugins.strict_permissions);
	section.read("watch", plugins.watch);
	section.read("drain_timeout_ms", plugins.drain_timeout_ms, 0, 3600000);
	section.read("max_file_bytes", plugins.max_file_bytes, 4096, uint64_t{1} << 30);
}

void read_limits(const Section &root, HostConfig::Limits &limits)
{
	const json *value = root.find("limits");
	if (value == nullptr)
		return;
	const Section section(*value, "limits",
	                      {"max_message_bytes", "max_sessions", "max_sessions_per_uid", "reserved_sessions",
	                       "max_inflight_bytes", "max_inflight_bytes_per_uid", "message_timeout_ms",
	                       "send_timeout_ms", "idle_timeout_ms"});
	section.read("max_message_bytes", limits.max_message_bytes, 1024, uint64_t{1} << 30);
	section.read("max_sessions", limits.max_sessions, 1, 1000000);
	section.read("max_sessions_per_uid", limits.max_sessions_per_uid, 0, 1000000);
	section.read("reserved_sessions", limits.reserved_sessions, 0, 1000000);
	section.read("max_inflight_bytes", limits.max_inflight_bytes, 0, uint64_t{1} << 40);
	section.read("max_inflight_bytes_per_uid", limits.max_inflight_bytes_per_uid, 0, uint64_t{1} << 40);
	section.read("message_timeout_ms", limits.message_timeout_ms, 0, 3600000);
	section.read("send_timeout_ms", limits.send_timeout_ms, 0, 3600000);
	section.read("idle_timeout_ms", limits.idle_timeout_ms, 0, uint64_t{7} * 24 * 3600000);
}

void read_server(const Section &root, HostConfig::Server &server)
{
	const json *value = root.find("server");
	if (value == nullptr)
		return;
	const Section section(*value, "server",
	                      {"spare_threads", "max_threads", "park_after_ms", "shutdown_timeout_ms"});
	section.read("spare_threads", server.spare_threads, 0, 1024);
	section.read("max_threads", server.max_threads, 0, 100000);
	section.read("park_after_ms", server.park_after_ms, 1, 60000);
	section.read("shutdown_timeout_ms", server.shutdown_timeout_ms, 0, 3600000);
}

void read_log(const Section &root, drpc::log::Level &level)
{
	const json *value = root.find("log");
	if (value == nullptr)
		return;
	const Section section(*value, "log", {"level"});
	if (const std::string *text = section.string("level")) {
		const auto parsed = drpc::log::parse_level(*text);
		if (!parsed)
			throw ConfigError(section.path("level") +
			                  ": expected \"debug\", \"info\", \"warn\" or \"error\", got \"" + *text +
			                  "\"");
		level = *parsed;
	}
}

AccessList read_allow(const json &value, const std::string &path)
{
	const Section section(value, path, {"uids", "gids", "everyone"});
	AccessList list;
	std::vector<uint32_t> ids;
	section.read_ids("uids", ids);
	list.uids.assign(ids.begin(), ids.end());
	ids.clear();
	section.read_ids("gids", ids);
	list.gids.assign(ids.begin(), ids.end());
	section.read("everyone", list.everyone);
	return list;
}

/// A user or group by name or number, as the system knows it.
template <typename Id, typename Lookup> Id read_account(const Section &section, std::string_view key, Lookup lookup)
{
	const json *value = section.find(key);
	if (value->is_number_unsigned())
		return value->get<Id>();
	const std::string *name = section.string(key);
	if (const std::optional<Id> id = lookup(*name))
		return *id;
	throw ConfigError(section.path(key) + ": no such " + std::string(key) + " \"" + *name + "\"");
}

/// The keys of modules.<name> that say how its worker runs: taken out of
/// `rest`, like `allow`, so the plugin never sees them.
void read_module_isolation(json &rest, const std::string &name, IsolationConfig &isolation)
{
	static constexpr std::string_view keys[] = {"isolation", "call_timeout_ms", "memory_limit_bytes", "user",
	                                            "group",     "sandbox",         "ring_spin_us"};
	json own = json::object();
	for (const std::string_view key : keys) {
		if (const auto found = rest.find(std::string(key)); found != rest.end()) {
			own[std::string(key)] = *found;
			rest.erase(found);
		}
	}
	if (own.empty())
		return;
	const Section section(own, "modules." + name, keys);
	IsolationSettings settings;
	if (section.find("isolation") != nullptr)
		settings.isolation = read_isolation_name(section);
	section.read("call_timeout_ms", settings.call_timeout_ms, 0, 3600000);
	if (section.find("memory_limit_bytes") != nullptr) {
		uint64_t bytes = 0;
		section.read("memory_limit_bytes", bytes, uint64_t{1} << 20, uint64_t{1} << 44);
		settings.memory_limit_bytes = bytes;
	}
	if (section.find("user") != nullptr)
		settings.uid =
			read_account<uid_t>(section, "user", [](const std::string &text) -> std::optional<uid_t> {
				const passwd *entry = ::getpwnam(text.c_str());
				return entry != nullptr ? std::optional<uid_t>(entry->pw_uid) : std::nullopt;
			});
	if (section.find("group") != nullptr)
		settings.gid =
			read_account<gid_t>(section, "group", [](const std::string &text) -> std::optional<gid_t> {
				const group *entry = ::getgrnam(text.c_str());
				return entry != nullptr ? std::optional<gid_t>(entry->gr_gid) : std::nullopt;
			});
	section.read("sandbox", settings.sandbox);
	if (section.find("ring_spin_us") != nullptr) {
		uint64_t spin = 0;
		section.read("ring_spin_us", spin, 0, IsolationSettings::max_ring_spin_us);
		settings.ring_spin_us = static_cast<uint32_t>(spin);
	}
	if (settings.sandbox && !worker::sandbox_available())
		throw ConfigError(section.path("sandbox") + ": this drpc-host was built without libseccomp");
	isolation.modules[name] = settings;
}

/// Worker limits mean nothing to a module in the host's process: refused
/// rather than silently ignored.
void check_isolation(const IsolationConfig &isolation)
{
	for (const auto &[name, settings] : isolation.modules) {
		const bool limited = settings.call_timeout_ms != 0 || settings.memory_limit_bytes || settings.uid ||
		                     settings.gid || settings.sandbox;
		if (limited && isolation.for_module(name).isolation != Isolation::process)
			throw ConfigError("modules." + name +
			                  ": call_timeout_ms, memory_limit_bytes, user, group and sandbox need "
			                  "isolation \"process\" (here or in plugins.isolation)");
		if (settings.ring_spin_us && isolation.for_module(name).isolation != Isolation::process)
			throw ConfigError(
				"modules." + name +
				".ring_spin_us: a module in the host's process has no message rings; it needs "
				"isolation \"process\" (here or in plugins.isolation)");
	}
}

void read_modules(const Section &root, ModuleConfigs &modules, AccessLists &access, IsolationConfig &isolation)
{
	const json *value = root.find("modules");
	if (value == nullptr)
		return;
	if (!value->is_object())
		throw ConfigError("modules: expected an object");
	for (const auto &[name, config] : value->items()) {
		if (!config.is_object())
			throw ConfigError("modules." + name + ": expected an object");
		// `allow` is the host's, not the module's: the plugin never sees it.
		json rest = config;
		if (const auto allow = rest.find("allow"); allow != rest.end()) {
			access[name] = read_allow(*allow, "modules." + name + ".allow");
			rest.erase(allow);
		}
		if (name != "admin")
			read_module_isolation(rest, name, isolation);
		if (name == "admin") {
			if (!rest.empty())
				throw ConfigError("modules.admin." + rest.begin().key() +
				                  ": unknown key (the built-in admin module takes only \"allow\")");
			continue;
		}
		modules[name] = rest.dump();
	}
}

/// nlohmann keeps the last of two equal keys without a word; a config with
/// both is ambiguous, so the parse callback refuses it.
class DuplicateKeyCheck {
public:
	bool operator()(int depth, json::parse_event_t event, json &parsed)
	{
		switch (event) {
		case json::parse_event_t::object_start:
			keys_.resize(static_cast<size_t>(depth) + 1);
			keys_.back().clear();
			break;
		case json::parse_event_t::key: {
			auto &seen = keys_.at(static_cast<size_t>(depth) - 1);
			const auto &key = parsed.get_ref<const std::string &>();
			if (!seen.insert(key).second)
				throw ConfigError(key + ": duplicate key");
			break;
		}
		default:
			break;
		}
		return true;
	}

private:
	std::vector<std::set<std::string>> keys_;
};

} // namespace

std::filesystem::path HostConfig::default_plugin_directory() { return DRPC_HOST_DEFAULT_PLUGIN_DIR; }

std::optional<mode_t> parse_octal_mode(std::string_view text) noexcept
{
	if (text.size() < 3 || text.size() > 4)
		return std::nullopt;
	mode_t mode = 0;
	for (char c : text) {
		if (c < '0' || c > '7')
			return std::nullopt;
		mode = static_cast<mode_t>(mode * 8 + static_cast<mode_t>(c - '0'));
	}
	if (mode > 0777)
		return std::nullopt;
	return mode;
}

HostConfig parse_config(std::string_view json_text, const std::filesystem::path &base_dir)
{
	json document;
	try {
		DuplicateKeyCheck check;
		document = json::parse(json_text.begin(), json_text.end(),
		                       [&check](int depth, json::parse_event_t event, json &parsed) {
					       return check(depth, event, parsed);
				       });
	} catch (const json::parse_error &e) {
		// Drop nlohmann's "[json.exception.parse_error.101] " prefix.
		std::string_view what = e.what();
		if (const size_t end = what.find("] "); what.starts_with("[json.exception") && end != what.npos)
			what.remove_prefix(end + 2);
		throw ConfigError("invalid JSON: " + std::string(what));
	}

	const std::filesystem::path base = std::filesystem::absolute(base_dir);
	HostConfig config;
	const Section root(document, "", {"socket", "plugins", "limits", "server", "log", "modules", "run_directory"});
	root.read_path("run_directory", config.run_directory, base, true);
	read_socket(root, config.socket, base);
	read_plugins(root, config.plugins, base, config.isolation);
	read_limits(root, config.limits);
	read_server(root, config.server);
	read_log(root, config.log_level);
	read_modules(root, config.modules, config.access, config.isolation);
	check_isolation(config.isolation);
	return config;
}

HostConfig load_config_file(const std::filesystem::path &file)
{
	const std::string where = "config " + file.string() + ": ";
	std::ifstream in(file, std::ios::binary);
	if (!in)
		throw ConfigError(where + "cannot open: " + std::strerror(errno));
	std::string text;
	char chunk[64 * 1024];
	while (in.read(chunk, sizeof(chunk)) || in.gcount() > 0) {
		text.append(chunk, static_cast<size_t>(in.gcount()));
		if (text.size() > max_config_bytes)
			throw ConfigError(where + "larger than " + std::to_string(max_config_bytes) + " bytes");
	}
	if (in.bad())
		throw ConfigError(where + "cannot read: " + std::strerror(errno));
	try {
		return parse_config(text, std::filesystem::absolute(file).parent_path());
	} catch (const ConfigError &e) {
		throw ConfigError(where + e.what());
	}
}

} // namespace drpc::host
