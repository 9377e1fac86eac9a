// SPDX-License-Identifier: Apache-2.0
/// @file config.hpp
/// The host's configuration (config/drpc-host.json; every key is documented
/// in config/README.md) and its strict reader: an unknown key or a value of
/// the wrong type is an error naming the key's path.
#pragma once

#include <drpc/lifecycle/access_list.hpp>
#include <drpc/lifecycle/isolation_config.hpp>
#include <drpc/lifecycle/lifecycle.hpp>

#include <drpc/error.hpp>
#include <drpc/log.hpp>
#include <drpc/server.hpp>

#include <cstdint>
#include <filesystem>
#include <string_view>
#include <sys/types.h>

namespace drpc::host {

/// A configuration the host refuses; what() is "<key path>: <why>", e.g.
/// "limits.max_message_bytes: expected an unsigned integer", prefixed with
/// the file when read from one.
class ConfigError : public drpc::Error {
public:
	using drpc::Error::Error;
};

/// Every setting, with the defaults an empty `{}` gets.
struct HostConfig {
	struct Socket {
		/// Empty: drpc-host.sock in the run directory.
		std::filesystem::path path;
		mode_t mode = 0600;
		bool unlink_stale = true;
	} socket;

	struct Plugins {
		std::filesystem::path directory = default_plugin_directory();
		/// Empty: a fresh directory under $XDG_RUNTIME_DIR or /tmp.
		std::filesystem::path runtime_dir;
		bool strict_permissions = true;
		/// Load, reload and unload as files come and go (inotify).
		bool watch = true;
		/// How long a reload or unload waits for calls in flight on the
		/// old build before reporting it as draining.
		uint64_t drain_timeout_ms = 10000;
		/// Larger plugin files are refused (see config/README.md for why 64 MiB).
		uint64_t max_file_bytes = uint64_t{64} << 20;
	} plugins;

	/// What one client may make the host hold; defaults from ServerOptions.
	struct Limits {
		uint64_t max_message_bytes = drpc::ServerOptions{}.max_message_bytes;
		uint64_t max_sessions = drpc::ServerOptions{}.max_sessions;
		uint64_t max_sessions_per_uid = drpc::ServerOptions{}.max_sessions_per_uid;
		uint64_t reserved_sessions = drpc::ServerOptions{}.reserved_sessions;
		uint64_t max_inflight_bytes = drpc::ServerOptions{}.max_inflight_bytes;
		uint64_t max_inflight_bytes_per_uid = drpc::ServerOptions{}.max_inflight_bytes_per_uid;
		uint64_t message_timeout_ms = static_cast<uint64_t>(drpc::ServerOptions{}.message_timeout.count());
		uint64_t send_timeout_ms = static_cast<uint64_t>(drpc::ServerOptions{}.send_timeout.count());
		uint64_t idle_timeout_ms = static_cast<uint64_t>(drpc::ServerOptions{}.idle_timeout.count());
	} limits;

	struct Server {
		uint64_t spare_threads = drpc::ServerOptions{}.spare_threads;
		uint64_t max_threads = drpc::ServerOptions{}.max_threads;
		uint64_t park_after_ms = static_cast<uint64_t>(drpc::ServerOptions{}.park_after.count());
		uint64_t shutdown_timeout_ms = 5000;
	} server;

	drpc::log::Level log_level = drpc::log::Level::info;

	/// The host's own directory for its socket and runtime directories;
	/// empty: /run/drpc for root, $XDG_RUNTIME_DIR/drpc for anyone else.
	std::filesystem::path run_directory;

	/// The `modules` object: each module's config as JSON text, by name,
	/// without the `allow` key, which the host keeps for itself.
	ModuleConfigs modules;
	/// `modules.<name>.allow`, by module name; a module without one is open
	/// to every client (except "admin", see admin_module.hpp).
	AccessLists access;
	/// plugins.isolation and the isolation keys of `modules` (isolation,
	/// call_timeout_ms, memory_limit_bytes, user, group, sandbox), which
	/// are the host's too.
	IsolationConfig isolation;

	/// Where plugins are installed (set at build time).
	[[nodiscard]] static std::filesystem::path default_plugin_directory();
};

/// Parses a configuration. Relative paths in it are resolved against
/// `base_dir` (the config file's directory), which is made absolute first.
/// Throws ConfigError.
[[nodiscard]] HostConfig parse_config(std::string_view json_text, const std::filesystem::path &base_dir);

/// Reads and parses `file`; relative paths in it are relative to the file's
/// directory. Throws ConfigError prefixed with "config <file>: ".
[[nodiscard]] HostConfig load_config_file(const std::filesystem::path &file);

/// "0600" -> 0600. Accepts three or four octal digits up to 0777.
[[nodiscard]] std::optional<mode_t> parse_octal_mode(std::string_view text) noexcept;

} // namespace drpc::host
