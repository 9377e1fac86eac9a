// SPDX-License-Identifier: Apache-2.0
// drpc-host from command line to exit status.
#include "app.hpp"

#include "cli.hpp"
#include "config.hpp"
#include "config_check.hpp"
#include "host.hpp"
#include "signals.hpp"
#include "worker_args.hpp"
#include "worker_main.hpp"

#include <drpc/lifecycle/memory_trim.hpp>

#include <drpc/log.hpp>
#include <drpc/plugin.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <span>
#include <sys/resource.h>
#include <unistd.h>

#ifndef DRPC_HOST_VERSION
#define DRPC_HOST_VERSION "unknown"
#endif

namespace drpc::host {
namespace {

constexpr std::string_view log_component = "host";

/// One descriptor per session plus the plugins' own: take all the kernel
/// allows this process.
void raise_file_limit()
{
	rlimit limit{};
	if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == limit.rlim_max)
		return;
	const rlim_t before = limit.rlim_cur;
	limit.rlim_cur = limit.rlim_max;
	if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
		drpc::log::warn(log_component, std::string("cannot raise RLIMIT_NOFILE: ") + std::strerror(errno));
		return;
	}
	drpc::log::debug(log_component, "raised RLIMIT_NOFILE from " + std::to_string(before) + " to " +
	                                        std::to_string(limit.rlim_cur));
}

std::string_view program_name(int argc, char **argv)
{
	if (argc < 1 || argv[0] == nullptr)
		return "drpc-host";
	const std::string_view path = argv[0];
	const size_t slash = path.rfind('/');
	return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

int serve(const HostConfig &config)
{
	return_large_blocks_on_free();
	// Before the host starts a thread, so that every thread inherits the mask.
	ShutdownSignals signals;
	Host host(config);
	try {
		host.start();
	} catch (const std::exception &e) {
		drpc::log::error(log_component, std::string("cannot start: ") + e.what());
		return exit_failure;
	}
	std::optional<int> signal;
	try {
		signal = host.run(signals.fd());
	} catch (const std::exception &e) {
		drpc::log::error(log_component, e.what());
	}
	const char *name = signal ? ::sigabbrev_np(*signal) : nullptr;
	drpc::log::info(log_component, "received SIG" + std::string(name != nullptr ? name : "?"));
	if (!host.stop()) {
		// Plugin code is still running calls: no destructor may unmap it.
		std::_Exit(exit_failure);
	}
	return exit_ok;
}

} // namespace

int run_host(int argc, char **argv) noexcept
{
	// A worker of an isolated module: drpc-host re-executed by the host.
	if (argc >= 2 && argv[1] == isolation::worker_mode_flag)
		return isolation::run_worker(std::span<const char *const>(argv + 2, static_cast<size_t>(argc - 2)));
	const std::string_view program = program_name(argc, argv);
	try {
		CliOptions options;
		try {
			options = parse_command_line(std::span<const char *const>(
				argv + (argc > 0 ? 1 : 0), static_cast<size_t>(argc > 0 ? argc - 1 : 0)));
		} catch (const UsageError &e) {
			std::cerr << program << ": " << e.what() << "\nTry '" << program << " --help'.\n";
			return exit_usage;
		}
		if (options.help) {
			std::cout << usage_text(program);
			return exit_ok;
		}
		if (options.version) {
			std::cout << program << " " DRPC_HOST_VERSION " (plugin ABI " << DRPC_PLUGIN_ABI_VERSION
				  << ")\n";
			return exit_ok;
		}

		HostConfig config;
		try {
			if (options.config)
				config = load_config_file(*options.config);
		} catch (const ConfigError &e) {
			drpc::log::error("config", e.what());
			return exit_failure;
		}
		apply_overrides(options, config);
		drpc::log::set_level(config.log_level);
		if (options.check_config)
			return check_config(config, std::cout) ? exit_ok : exit_failure;
		raise_file_limit();
		return serve(config);
	} catch (const std::exception &e) {
		drpc::log::error(log_component, e.what());
	} catch (...) {
		drpc::log::error(log_component, "unexpected exception");
	}
	return exit_failure;
}

} // namespace drpc::host
