// SPDX-License-Identifier: Apache-2.0
// The host's start and its orderly shutdown.
#include "host.hpp"

#include "file_permissions.hpp"
#include "plugin_file.hpp"

#include <drpc/error.hpp>
#include <drpc/log.hpp>

#include <chrono>

namespace drpc::host {
namespace {

constexpr std::string_view log_component = "host";

drpc::ServerOptions server_options(const HostConfig &config)
{
	return {
		.socket_path = config.socket.path,
		.socket_mode = config.socket.mode,
		.unlink_stale_socket = config.socket.unlink_stale,
		.max_message_bytes = static_cast<size_t>(config.limits.max_message_bytes),
		.max_sessions = static_cast<size_t>(config.limits.max_sessions),
		.spare_threads = static_cast<size_t>(config.server.spare_threads),
	};
}

} // namespace

Host::Host(HostConfig config) : config_(std::move(config)) {}

Host::~Host()
{
	if (!stop()) {
		// Calls are still running inside plugin code: unmapping it would
		// crash them. Let the process end with everything still mapped.
		(void)server_.release();
		(void)plugins_.release();
		(void)loader_.release();
	}
}

void Host::start()
{
	if (server_)
		throw drpc::Error("host: already started");
	try {
		runtime_ = std::make_unique<RuntimeDir>(config_.plugins.runtime_dir, config_.plugins.strict_permissions);
		loader_ = std::make_unique<PluginLoader>(*runtime_, config_.modules);
		plugins_ = std::make_unique<PluginSet>(*loader_);
		load_plugins();

		server_ = std::make_unique<drpc::DomainSocketServer>(server_options(config_));
		for (const auto &module : plugins_->modules())
			server_->register_module(module);
		server_->start();
	} catch (...) {
		server_.reset();
		plugins_.reset();
		loader_.reset();
		runtime_.reset();
		throw;
	}
	drpc::log::info(log_component, "serving " + std::to_string(plugins_->modules().size()) + " module(s) on " +
	                                       config_.socket.path.string() + " (mode " +
	                                       format_mode(config_.socket.mode) + "); " +
	                                       std::to_string(plugins_->failures().size()) + " plugin(s) refused");
}

void Host::load_plugins()
{
	const PluginDirectory directory(config_.plugins.directory, config_.plugins.strict_permissions);
	drpc::log::info("plugins", "loading plugins from " + directory.path().string());
	plugins_->load_directory(directory);

	for (const auto &[name, unused] : config_.modules) {
		bool loaded = false;
		for (const auto &module : plugins_->modules())
			loaded = loaded || module->name() == name;
		if (!loaded)
			drpc::log::warn("config", "modules." + name + ": no loaded plugin is called " + name);
	}
}

bool Host::stop() noexcept
{
	if (stopped_ || !server_)
		return true;
	if (drain_failed_)
		return false;
	try {
		drpc::log::info(log_component, "shutting down");
		const auto deadline = std::chrono::milliseconds(config_.server.shutdown_timeout_ms);
		if (!server_->shutdown(deadline)) {
			drpc::log::error(log_component, "calls were still running after server.shutdown_timeout_ms (" +
			                                        std::to_string(deadline.count()) +
			                                        " ms): leaving the plugins loaded");
			drain_failed_ = true;
			return false;
		}
		stopped_ = true;
		server_.reset(); // drops the registry's references to the modules
		const size_t count = plugins_->modules().size();
		plugins_.reset(); // the last references: each plugin is destroyed and unmapped
		loader_.reset();
		runtime_.reset();
		drpc::log::info(log_component, "stopped; unloaded " + std::to_string(count) + " plugin(s)");
	} catch (const std::exception &e) {
		drpc::log::error(log_component, std::string("shutdown: ") + e.what());
	}
	return true;
}

const PluginSet &Host::plugins() const
{
	if (!plugins_)
		throw drpc::Error("host: not started");
	return *plugins_;
}

drpc::DomainSocketServer &Host::server()
{
	if (!server_)
		throw drpc::Error("host: not started");
	return *server_;
}

} // namespace drpc::host
