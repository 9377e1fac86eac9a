// SPDX-License-Identifier: Apache-2.0
// The worker process from its command line to its exit status.
#include "worker_main.hpp"

#include "link_server.hpp"
#include "shared_region.hpp"
#include "worker_args.hpp"
#include "worker_control.hpp"
#include "worker_module.hpp"

#include "../lifecycle/plugin_loader.hpp"
#include "../worker/confinement.hpp"
#include "../worker/sandbox.hpp"

#include <drpc/error.hpp>
#include <drpc/log.hpp>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <sys/resource.h>
#include <unistd.h>

namespace drpc::host::isolation {
namespace {

constexpr std::string_view log_component = "worker";

/// Bytes a worker accepts in one message: the host's own cap on a call is
/// checked before a call is forwarded; this only keeps the framing bounded.
constexpr size_t worker_max_message_bytes = (size_t{1} << 30) + 4096;

/// How long SIGTERM lets calls in flight finish before the worker exits anyway.
constexpr std::chrono::milliseconds stop_drain{2000};

void write_status(std::string_view text) noexcept
{
	std::string line(text);
	line += '\n';
	const char *data = line.data();
	size_t left = line.size();
	while (left > 0) {
		const ssize_t put = ::write(worker_status_fd, data, left);
		if (put < 0 && errno == EINTR)
			continue;
		if (put <= 0)
			break;
		data += put;
		left -= static_cast<size_t>(put);
	}
}

/// The module config, read to its end (capped) and closed.
std::string read_config()
{
	std::string config;
	char buffer[4096];
	for (;;) {
		const ssize_t got = ::read(worker_config_fd, buffer, sizeof(buffer));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			throw std::system_error(errno, std::generic_category(), "reading the module config");
		if (got == 0)
			break;
		if (config.size() + static_cast<size_t>(got) > max_worker_config_bytes)
			throw std::length_error("module config over " + std::to_string(max_worker_config_bytes) +
			                        " bytes");
		config.append(buffer, static_cast<size_t>(got));
	}
	::close(worker_config_fd);
	return config;
}

/// The host blocks its shutdown signals in every thread, and a mask survives
/// exec: the worker takes SIGTERM and SIGINT by sigwait() and nothing else
/// stays blocked.
sigset_t take_stop_signals()
{
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	::pthread_sigmask(SIG_SETMASK, &stop, nullptr);
	std::signal(SIGPIPE, SIG_IGN);
	std::signal(SIGHUP, SIG_IGN);
	return stop;
}

/// Why a worker under memory_limit_bytes may not start its threads: the
/// RLIMIT_DATA it sets counts every thread's whole stack, used or not.
std::string memory_limit_note(const WorkerArgs &args)
{
	if (!args.memory_limit_bytes)
		return {};
	rlimit stack{};
	const bool known = ::getrlimit(RLIMIT_STACK, &stack) == 0 && stack.rlim_cur != RLIM_INFINITY;
	return "; memory_limit_bytes " + std::to_string(*args.memory_limit_bytes) +
	       " is this worker's RLIMIT_DATA, and each of its threads' stacks (" +
	       (known ? std::to_string(stack.rlim_cur) + " bytes" : std::string("RLIMIT_STACK")) +
	       ") counts toward it: raise it";
}

int serve(const WorkerArgs &args, const sigset_t &stop)
{
	const std::string config = read_config();
	// Mapped before confine() closes what is not kept: the mapping is all it needs.
	const auto region = std::make_shared<const SharedRegion>(SharedRegion::adopt(worker_region_fd));
	worker::confine(worker::ProcessConfinement{
		.parent = args.parent,
		.keep_fds = {worker_plugin_fd, worker_listen_fd, worker_status_fd},
		.uid = args.uid,
		.gid = args.gid,
		.memory_limit_bytes = args.memory_limit_bytes,
	});
	if (args.sandbox) {
		worker::SandboxPolicy policy;
		policy.read_only_fds = {worker_plugin_fd};
		drpc::log::info(log_component, worker::enter_sandbox(policy));
	}

	std::shared_ptr<HostedModule> plugin;
	try {
		// The one loader and its checks; the full protobuf runtime is fine
		// here: this process maps no other build.
		plugin = load_plugin_descriptor(worker_plugin_fd, args.source, args.generation, config,
		                                LoadPolicy{.allow_full_protobuf = true});
	} catch (const std::exception &e) {
		write_status(std::string("error ") + e.what());
		return EXIT_FAILURE;
	}
	{
		LinkServer server(worker_listen_fd,
		                  {std::make_shared<WorkerModule>(plugin, args.host_uid, region),
		                   std::make_shared<WorkerControl>(plugin, args.host_uid)},
		                  worker_max_message_bytes, region, args.parent, args.ring_spin);
		try {
			server.start();
		} catch (const std::system_error &e) {
			if (e.code().value() != EAGAIN && e.code().value() != ENOMEM)
				throw;
			throw std::runtime_error(e.what() + memory_limit_note(args)); // its threads could not start
		}
		// Whether the host may move state in and out through WorkerControl.
		write_status(plugin->has_state_handoff() ? "ready handoff" : "ready");
		::close(worker_status_fd);
		int signal = 0;
		while (::sigwait(&stop, &signal) != 0) {
		}
		if (!server.shutdown(stop_drain)) {
			// A call is still inside the plugin: its code must stay mapped.
			drpc::log::warn(log_component, "calls still running at exit");
			std::_Exit(EXIT_SUCCESS);
		}
	}
	plugin.reset(); // destroy(), then the library is unmapped
	return EXIT_SUCCESS;
}

} // namespace

int run_worker(std::span<const char *const> argv) noexcept
{
	try {
		const sigset_t stop = take_stop_signals();
		const WorkerArgs args = WorkerArgs::parse(argv);
		if (const auto level = static_cast<drpc::log::Level>(args.log_level);
		    level >= drpc::log::Level::debug && level <= drpc::log::Level::error)
			drpc::log::set_level(level);
		return serve(args, stop);
	} catch (const std::exception &e) {
		write_status(std::string("error ") + e.what());
		drpc::log::error(log_component, e.what());
	} catch (...) {
		write_status("error unexpected exception");
	}
	return EXIT_FAILURE;
}

} // namespace drpc::host::isolation
