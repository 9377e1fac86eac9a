// SPDX-License-Identifier: Apache-2.0
/// @file host.hpp
/// The host: a dRPC server whose modules are the plugins of one directory.
/// It wires the configuration, the runtime directory, the plugin set and a
/// drpc::DomainSocketServer together and takes them down in order.
#pragma once

#include "config.hpp"
#include "plugin_loader.hpp"
#include "plugin_set.hpp"
#include "runtime_dir.hpp"

#include <drpc/server.hpp>

#include <memory>

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
	/// The loaded plugins; valid after start().
	[[nodiscard]] const PluginSet &plugins() const;
	/// The server; valid after start().
	[[nodiscard]] drpc::DomainSocketServer &server();

private:
	void load_plugins();

	HostConfig config_;
	// Declared in the order of construction; destroyed in reverse, so the
	// server lets go of the modules before the plugins unload and the
	// runtime directory goes last.
	std::unique_ptr<RuntimeDir> runtime_;
	std::unique_ptr<PluginLoader> loader_;
	std::unique_ptr<PluginSet> plugins_;
	std::unique_ptr<drpc::DomainSocketServer> server_;
	bool stopped_ = false;
	bool drain_failed_ = false;
};

} // namespace drpc::host
