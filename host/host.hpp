// SPDX-License-Identifier: Apache-2.0
/// @file host.hpp
/// The host: a dRPC server whose modules are the plugins of one directory.
/// It wires the configuration, the run directory, the plugin lifecycle and a
/// drpc::DomainSocketServer together and takes them down in order.
#pragma once

#include "config.hpp"
#include "run_directory.hpp"
#include "service_notifier.hpp"
#include <drpc/lifecycle/memory_trim.hpp>

#include <drpc/lifecycle/lifecycle.hpp>
#include <drpc/server.hpp>

#include <chrono>
#include <memory>
#include <optional>

namespace drpc::host {

class Host {
public:
	explicit Host(HostConfig config);
	/// Calls stop().
	~Host();
	Host(const Host &) = delete;
	Host &operator=(const Host &) = delete;

	/// Makes the runtime directory, loads every plugin of the plugins
	/// directory (refusing bad ones with a log line each) and starts
	/// serving. Throws drpc::Error when the host cannot run at all: the
	/// plugins directory cannot be opened or is not trusted, the runtime
	/// directory cannot be made, the socket cannot be bound.
	void start();

	/// Graceful shutdown: stops accepting, lets calls in flight finish for
	/// up to server.shutdown_timeout_ms, unloads the plugins, removes the
	/// socket file and the runtime directory. Returns false when calls were
	/// still running at the deadline: then nothing is unloaded (their code
	/// must stay mapped) and the caller should exit the process without
	/// running destructors. Idempotent.
	bool stop() noexcept;

	[[nodiscard]] const HostConfig &config() const noexcept { return config_; }
	/// The plugins: load, reload, unload, list; valid after start().
	[[nodiscard]] Lifecycle &plugins();
	/// The server; valid after start().
	[[nodiscard]] drpc::DomainSocketServer &server();
	/// Where the runtime copies of loaded plugins live; valid after start().
	[[nodiscard]] const std::filesystem::path &runtime_dir() const;

	/// Runs the host's main thread until SIGTERM or SIGINT arrives on
	/// `signals`' descriptor: reacts to the plugins directory changing,
	/// rescans it on SIGHUP, finishes draining retired builds. Returns the
	/// signal that asked to stop.
	int run(int signal_fd);

	/// One round of run(): waits up to `timeout` for a signal or a
	/// directory event and handles what came. Returns the stop signal, if
	/// one arrived.
	std::optional<int> run_once(int signal_fd, std::chrono::milliseconds timeout);

private:
	void load_plugins();
	/// Opens the run directory when something lives in it, clears what dead
	/// hosts left there and puts the default socket and runtime dir in it.
	void prepare_run_directory();
	/// "N module(s) on PATH; M plugin(s) refused", for the log and systemd.
	[[nodiscard]] std::string serving_status() const;
	/// WATCHDOG=1 when it is due; returns how long until the next is.
	std::optional<std::chrono::milliseconds> keep_watchdog();

	/// What runs while the host is started, in the order start() creates
	/// it; destroyed in reverse, which is the whole teardown once stop() has
	/// shut the server down: the lifecycle takes the plugins out of the
	/// server's registry and unloads them, then the server goes, then the
	/// run directory (where the socket and the runtime copies were).
	struct Running {
		std::unique_ptr<RunDirectory> run;
		std::unique_ptr<drpc::DomainSocketServer> server;
		std::unique_ptr<Lifecycle> lifecycle;
	};

	HostConfig config_;
	std::chrono::steady_clock::time_point started_;
	std::unique_ptr<Running> running_;
	IdleTrim idle_trim_;
	ServiceNotifier notifier_;
	std::chrono::steady_clock::time_point next_watchdog_{};
	bool stopped_ = false;
	bool drain_failed_ = false;
};

} // namespace drpc::host
