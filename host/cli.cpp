// SPDX-License-Identifier: Apache-2.0
// Parsing drpc-host's command line.
#include "cli.hpp"

#include <array>

namespace drpc::host {
namespace {

enum class Flag { config, socket, plugins, log_level, help, version, check_config };

struct FlagSpec {
	Flag flag;
	std::string_view long_name;
	std::string_view short_name;
	bool takes_value;
};

constexpr std::array flags{
	FlagSpec{Flag::config, "--config", "-c", true},
	FlagSpec{Flag::socket, "--socket", "-s", true},
	FlagSpec{Flag::plugins, "--plugins", "-p", true},
	FlagSpec{Flag::log_level, "--log-level", "-l", true},
	FlagSpec{Flag::help, "--help", "-h", false},
	FlagSpec{Flag::version, "--version", "-V", false},
	FlagSpec{Flag::check_config, "--check-config", "-t", false},
};

template <class T> void set_once(std::optional<T> &slot, T value, std::string_view flag)
{
	if (slot)
		throw UsageError(std::string(flag) + " given twice");
	slot = std::move(value);
}

std::filesystem::path path_value(std::string_view flag, std::string_view value)
{
	if (value.empty())
		throw UsageError(std::string(flag) + ": expected a path, got an empty string");
	return std::filesystem::path(value);
}

} // namespace

CliOptions parse_command_line(std::span<const char *const> args)
{
	CliOptions options;
	for (size_t i = 0; i < args.size(); ++i) {
		const std::string_view arg = args[i] != nullptr ? args[i] : "";
		const size_t equals = arg.starts_with("--") ? arg.find('=') : std::string_view::npos;
		const std::string_view name = arg.substr(0, equals);

		const FlagSpec *spec = nullptr;
		for (const FlagSpec &candidate : flags) {
			if (name == candidate.long_name || name == candidate.short_name)
				spec = &candidate;
		}
		if (spec == nullptr) {
			if (arg.starts_with("-"))
				throw UsageError("unknown option '" + std::string(arg) + "'");
			throw UsageError("unexpected argument '" + std::string(arg) + "'");
		}

		std::string_view value;
		if (spec->takes_value) {
			if (equals != std::string_view::npos) {
				value = arg.substr(equals + 1);
			} else if (i + 1 < args.size() && args[i + 1] != nullptr) {
				value = args[++i];
			} else {
				throw UsageError(std::string(name) + ": missing value");
			}
		} else if (equals != std::string_view::npos) {
			throw UsageError(std::string(name) + " takes no value");
		}

		switch (spec->flag) {
		case Flag::config:
			set_once(options.config, path_value(name, value), name);
			break;
		case Flag::socket:
			set_once(options.socket, path_value(name, value), name);
			break;
		case Flag::plugins:
			set_once(options.plugins, path_value(name, value), name);
			break;
		case Flag::log_level: {
			const auto level = drpc::log::parse_level(value);
			if (!level)
				throw UsageError(std::string(name) + ": unknown level '" + std::string(value) +
				                 "' (expected debug, info, warn or error)");
			set_once(options.log_level, *level, name);
			break;
		}
		case Flag::help:
			options.help = true;
			break;
		case Flag::version:
			options.version = true;
			break;
		case Flag::check_config:
			options.check_config = true;
			break;
		}
	}
	return options;
}

std::string usage_text(std::string_view program)
{
	const std::string name(program);
	return "Usage: " + name +
	       " [--config FILE] [--socket PATH] [--plugins DIR] [--log-level LEVEL]\n"
	       "       " +
	       name +
	       " --check-config [--config FILE] [--plugins DIR]\n"
	       "\n"
	       "Serves dRPC calls on a Unix socket and routes them to module plugins\n"
	       "(*.so) loaded from a directory at start.\n"
	       "\n"
	       "Options (each overrides the matching key of the config file):\n"
	       "  -c, --config FILE       read settings from FILE (JSON; see config/README.md);\n"
	       "                          without it, built-in defaults apply\n"
	       "  -s, --socket PATH       listen on PATH (socket.path; default drpc-host.sock in\n"
	       "                          the run directory: /run/drpc for root, else\n"
	       "                          $XDG_RUNTIME_DIR/drpc)\n"
	       "  -p, --plugins DIR       load plugins from DIR (plugins.directory; default\n"
	       "                          " +
	       HostConfig::default_plugin_directory().string() +
	       ")\n"
	       "  -l, --log-level LEVEL   debug, info, warn or error (log.level; default info)\n"
	       "  -t, --check-config      check the config and the plugins directory, print\n"
	       "                          what would be loaded and what refused, serve\n"
	       "                          nothing; exit 1 on any error or refused plugin\n"
	       "  -h, --help              print this help and exit\n"
	       "  -V, --version           print the version and exit\n"
	       "\n"
	       "Relative paths on the command line are relative to the current directory;\n"
	       "relative paths in the config file are relative to the file's directory.\n"
	       "\n"
	       "Under systemd: Type=notify readiness and a socket passed by socket\n"
	       "activation (drpc-host.socket); see drpc-host(8).\n"
	       "\n"
	       "SIGTERM or SIGINT shut the host down gracefully. Exit status: 0 after a\n"
	       "clean shutdown, 1 when the host cannot start or fails, 2 on a usage error.\n";
}

void apply_overrides(const CliOptions &options, HostConfig &config)
{
	if (options.socket)
		config.socket.path = std::filesystem::absolute(*options.socket).lexically_normal();
	if (options.plugins)
		config.plugins.directory = std::filesystem::absolute(*options.plugins).lexically_normal();
	if (options.log_level)
		config.log_level = *options.log_level;
}

} // namespace drpc::host
