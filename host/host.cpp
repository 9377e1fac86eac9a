// SPDX-License-Identifier: Apache-2.0
// The host's start and its orderly shutdown.
#include "host.hpp"

#include "activated_socket.hpp"
#include "admin_module.hpp"
#include "process_starter.hpp"
#include <drpc/lifecycle/file_permissions.hpp>

#include <drpc/client.hpp>
#include <drpc/error.hpp>
#include <drpc/log.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

namespace drpc::host {
namespace {

constexpr std::string_view log_component = "host";
/// How long calls get to return once their isolated workers are stopped.
constexpr std::chrono::milliseconds worker_stop_drain{2000};

drpc::ServerOptions server_options(const HostConfig &config)
{
	return {
		.socket_path = config.socket.path,
		.socket_mode = config.socket.mode,
		.unlink_stale_socket = config.socket.unlink_stale,
		.max_message_bytes = static_cast<size_t>(config.limits.max_message_bytes),
		.max_sessions = static_cast<size_t>(config.limits.max_sessions),
		.max_sessions_per_uid = static_cast<size_t>(config.limits.max_sessions_per_uid),
		.reserved_sessions = static_cast<size_t>(config.limits.reserved_sessions),
		.max_inflight_bytes = static_cast<size_t>(config.limits.max_inflight_bytes),
		.max_inflight_bytes_per_uid = static_cast<size_t>(config.limits.max_inflight_bytes_per_uid),
		.message_timeout = std::chrono::milliseconds(config.limits.message_timeout_ms),
		.send_timeout = std::chrono::milliseconds(config.limits.send_timeout_ms),
		.idle_timeout = std::chrono::milliseconds(config.limits.idle_timeout_ms),
		.park_after = std::chrono::milliseconds(config.server.park_after_ms),
		.spare_threads = static_cast<size_t>(config.server.spare_threads),
		.max_threads = static_cast<size_t>(config.server.max_threads),
	};
}

/// Refuses a socket path where a server already listens, before any plugin
/// is loaded: a second host on a taken socket fails at once and runs no
/// plugin code. A stale or foreign file is left to the server's own rules.
void check_socket_free(const std::filesystem::path &path)
{
	std::error_code error;
	if (!std::filesystem::is_socket(path, error))
		return;
	drpc::ClientConnection probe(path);
	try {
		probe.connect();
	} catch (const std::exception &) {
		return;
	}
	throw drpc::Error("socket " + path.string() +
	                  ": socket in use: another server is listening there (no plugin was loaded)");
}

} // namespace

Host::Host(HostConfig config) : config_(std::move(config)), started_(std::chrono::steady_clock::now()) {}

Host::~Host()
{
	if (!stop()) {
		// Calls are still running inside plugin code: unmapping it would
		// crash them. Let the process end with everything still mapped.
		(void)running_.release();
	}
}

void Host::start()
{
	if (running_)
		throw drpc::Error("host: already started");
	try {
		running_ = std::make_unique<Running>();
		prepare_run_directory();
		drpc::ServerOptions options = server_options(config_);
		// Under systemd's socket activation the socket is systemd's, already listening.
		if (const auto activated = take_activated_socket()) {
			options.listen_fd = activated->fd;
			options.socket_path = config_.socket.path = activated->path;
		} else {
			check_socket_free(config_.socket.path);
		}
		running_->server = std::make_unique<drpc::DomainSocketServer>(std::move(options));
		running_->lifecycle = std::make_unique<Lifecycle>(
			LifecycleOptions{
				.plugins_dir = config_.plugins.directory,
				.runtime_dir = config_.plugins.runtime_dir,
				.strict_permissions = config_.plugins.strict_permissions,
				.max_file_bytes = config_.plugins.max_file_bytes,
				.watch = config_.plugins.watch,
				.drain_timeout = std::chrono::milliseconds(config_.plugins.drain_timeout_ms),
				.module_configs = config_.modules,
				.access = config_.access,
				.isolation = config_.isolation,
				.isolated_starter = isolation::make_process_starter(config_.isolation.worker_executable,
		                                                                    config_.isolation.worker_cgroup),
			},
			running_->server->modules());
		load_plugins();
		auto admin = std::make_shared<AdminModule>(
			*running_->lifecycle, [server = running_->server.get()] { return server->stats(); }, started_);
		if (const auto access = config_.access.find("admin"); access != config_.access.end())
			admin->set_read_access(access->second);
		running_->server->register_module(std::move(admin));
		running_->server->start();
	} catch (...) {
		running_.reset();
		throw;
	}
	drpc::log::info(log_component,
	                serving_status() + " (mode " + format_mode(config_.socket.mode) + ")" +
	                        (config_.plugins.watch ? "; watching " + config_.plugins.directory.string() : ""));
	notifier_.ready(serving_status());
}

std::string Host::serving_status() const
{
	const Lifecycle &plugins = *running_->lifecycle;
	return "serving " + std::to_string(plugins.size()) + " module(s) on " + config_.socket.path.string() + "; " +
	       std::to_string(plugins.failures().size()) + " plugin(s) refused";
}

std::optional<std::chrono::milliseconds> Host::keep_watchdog()
{
	const auto interval = notifier_.watchdog_interval();
	if (!interval)
		return std::nullopt;
	const auto now = std::chrono::steady_clock::now();
	if (now >= next_watchdog_) {
		notifier_.watchdog();
		next_watchdog_ = now + *interval;
	}
	return std::chrono::ceil<std::chrono::milliseconds>(next_watchdog_ - now);
}

void Host::prepare_run_directory()
{
	const bool needed = config_.socket.path.empty() || config_.plugins.runtime_dir.empty();
	if (!config_.socket.path.empty())
		check_socket_directory(config_.socket.path);
	if (!needed && config_.run_directory.empty())
		return;
	auto &run = running_->run;
	run = std::make_unique<RunDirectory>(
		config_.run_directory.empty() ? default_run_directory(::geteuid(), std::getenv("XDG_RUNTIME_DIR"))
					      : config_.run_directory);
	(void)run->remove_stale_runtime_dirs();
	if (config_.socket.path.empty())
		config_.socket.path = run->path() / "drpc-host.sock";
	if (config_.plugins.runtime_dir.empty())
		config_.plugins.runtime_dir = run->make_runtime_dir();
}

void Host::load_plugins()
{
	Lifecycle &plugins = *running_->lifecycle;
	drpc::log::info("plugins", "loading plugins from " + plugins.plugins_dir().string());
	plugins.load_all();

	const auto loaded = plugins.list();
	for (const auto &[name, unused] : config_.modules) {
		const bool found = std::any_of(loaded.begin(), loaded.end(),
		                               [&](const ModuleRecord &m) { return m.name == name; });
		if (!found)
			drpc::log::warn("config", "modules." + drpc::log::untrusted(name) +
			                                  ": no loaded plugin is called " + drpc::log::untrusted(name));
	}
}

bool Host::stop() noexcept
{
	if (stopped_ || !running_)
		return true;
	if (drain_failed_)
		return false;
	try {
		drpc::log::info(log_component, "shutting down");
		notifier_.stopping();
		const auto deadline = std::chrono::milliseconds(config_.server.shutdown_timeout_ms);
		bool drained = running_->server->shutdown(deadline);
		if (!drained) {
			// Calls stuck in an isolated module end with its worker (FAILURE);
			// the workers' grace is spent in stop_workers().
			if (const size_t stopped = running_->lifecycle->stop_workers(); stopped > 0) {
				drpc::log::warn(log_component,
				                "calls were still running after server.shutdown_timeout_ms (" +
				                        std::to_string(deadline.count()) + " ms): stopped " +
				                        std::to_string(stopped) + " isolated worker(s) to end them");
				drained = running_->server->shutdown(worker_stop_drain);
			}
		}
		if (!drained) {
			drpc::log::error(log_component, "calls were still running after server.shutdown_timeout_ms (" +
			                                        std::to_string(deadline.count()) +
			                                        " ms): leaving the plugins loaded");
			drain_failed_ = true;
			return false;
		}
		stopped_ = true;
		const size_t count = running_->lifecycle->size();
		running_.reset(); // Running's members in reverse: the plugins, the server, the directories
		drpc::log::info(log_component, "stopped; unloaded " + std::to_string(count) + " plugin(s)");
	} catch (const std::exception &e) {
		drpc::log::error(log_component, std::string("shutdown: ") + e.what());
	}
	return true;
}

Lifecycle &Host::plugins()
{
	if (!running_ || !running_->lifecycle)
		throw drpc::Error("host: not started");
	return *running_->lifecycle;
}

const std::filesystem::path &Host::runtime_dir() const
{
	if (!running_ || !running_->lifecycle)
		throw drpc::Error("host: not started");
	return running_->lifecycle->runtime_dir();
}

int Host::run(int signal_fd)
{
	for (;;) {
		// A watched file settling, or a drain to finish, sets the pace.
		std::chrono::milliseconds timeout(-1);
		if (const auto due = running_->lifecycle->next_due())
			timeout = *due;
		// Wake now and then to notice a burst ending (memory_trim.hpp).
		if (timeout.count() < 0 || timeout > idle_trim_.next_sample())
			timeout = idle_trim_.next_sample();
		if (const auto watchdog = keep_watchdog(); watchdog && (timeout.count() < 0 || timeout > *watchdog))
			timeout = *watchdog;
		if (const auto signal = run_once(signal_fd, timeout))
			return *signal;
	}
}

std::optional<int> Host::run_once(int signal_fd, std::chrono::milliseconds timeout)
{
	Lifecycle &plugins = *running_->lifecycle;
	pollfd ready[2] = {{signal_fd, POLLIN, 0}, {plugins.watch_fd(), POLLIN, 0}};
	const int count = ::poll(ready, 2, timeout.count() < 0 ? -1 : static_cast<int>(timeout.count()));
	if (count < 0 && errno != EINTR)
		throw drpc::SystemError("host: poll", errno);
	if (count > 0 && (ready[0].revents & POLLIN) != 0) {
		signalfd_siginfo info{};
		if (::read(signal_fd, &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) {
			if (info.ssi_signo != SIGHUP)
				return static_cast<int>(info.ssi_signo);
			drpc::log::info(log_component, "received SIGHUP");
			notifier_.reloading();
			plugins.rescan();
			notifier_.ready(serving_status());
		}
	}
	if (plugins.handle_events(count > 0 && (ready[1].revents & POLLIN) != 0))
		notifier_.status(serving_status());
	const drpc::ServerStats stats = running_->server->stats();
	// Opens, closes and calls: anything that took or freed buffers.
	if (idle_trim_.sample(stats.calls_served + 2 * stats.sessions_total - stats.sessions_open))
		plugins.release_idle_memory();
	return std::nullopt;
}

drpc::DomainSocketServer &Host::server()
{
	if (!running_ || !running_->server)
		throw drpc::Error("host: not started");
	return *running_->server;
}

} // namespace drpc::host
