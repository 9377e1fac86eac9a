// SPDX-License-Identifier: Apache-2.0
// The admin module: decodes each request, checks who may change the plugins,
// hands the work to the plugin manager and logs every operation with its caller.
#include "admin_module.hpp"

#include "admin_messages.hpp"

#include <drpc/log.hpp>

#include <cstdio>
#include <exception>
#include <unistd.h>

#ifndef DRPC_HOST_VERSION
#error "DRPC_HOST_VERSION must be defined by the build"
#endif

namespace drpc::host {
namespace {

constexpr std::string_view log_component = "admin";

std::string hex_id(int32_t id)
{
	char text[16];
	std::snprintf(text, sizeof(text), "%#x", static_cast<unsigned>(id));
	return text;
}

std::string caller(const drpc::CallContext &context)
{
	return "pid " + std::to_string(context.peer.pid) + " uid " + std::to_string(context.peer.uid);
}

std::string method_name(AdminMethod method)
{
	switch (method) {
	case AdminMethod::list_modules:
		return "LIST_MODULES";
	case AdminMethod::load:
		return "LOAD";
	case AdminMethod::unload:
		return "UNLOAD";
	case AdminMethod::reload:
		return "RELOAD";
	case AdminMethod::stats:
		return "STATS";
	}
	return "method " + std::to_string(static_cast<int32_t>(method));
}

/// Why module `id` cannot be unloaded or reloaded, when it is not a plugin's.
std::string reserved_refusal(AdminMethod method, int32_t id)
{
	const std::string verb = method == AdminMethod::unload ? "unloaded" : "reloaded";
	if (id == admin_module_id)
		return "module " + hex_id(id) + " is the host's built-in admin module; it cannot be " + verb;
	return "module " + hex_id(id) + " is in the host's reserved range (" + hex_id(reserved_id_first) + "-" +
	       hex_id(reserved_id_last) + "), which no plugin serves; it cannot be " + verb;
}

/// "module 4242 (good 1.2.3) from /plugins/good.so, generation 2"
std::string describe(const ModuleStatus &module)
{
	return "module " + std::to_string(module.id) + " (" + module.name + " " + module.version + ") from " +
	       module.source.string() + ", generation " + std::to_string(module.generation);
}

void log_outcome(const drpc::CallContext &context, const std::string &request, const ModuleOperation &operation)
{
	const std::string who = caller(context) + ": " + request;
	if (!operation.ok)
		drpc::log::warn(log_component, who + " failed: " + operation.error);
	else if (operation.module)
		drpc::log::info(log_component, who + ": done; " + describe(*operation.module));
	else
		drpc::log::info(log_component, who + ": done");
}

} // namespace

AdminModule::AdminModule(PluginManager &manager, StatsSource server_stats, Clock::time_point started)
	: manager_(manager), server_stats_(std::move(server_stats)), started_(started), host_uid_(::geteuid())
{
}

drpc::Status AdminModule::handle_call(const drpc::CallContext &context, std::span<const uint8_t> body,
                                      drpc::ResponseBody &out)
{
	calls_.fetch_add(1, std::memory_order_relaxed);
	drpc::Status status = drpc::Status::UNKNOWN_METHOD;
	switch (static_cast<AdminMethod>(context.method)) {
	case AdminMethod::list_modules:
		status = list_modules(context, body, out);
		break;
	case AdminMethod::load:
	case AdminMethod::unload:
	case AdminMethod::reload:
		status = change(context, body, out);
		break;
	case AdminMethod::stats:
		status = stats(context, body, out);
		break;
	default:
		drpc::log::debug(log_component, caller(context) + ": unknown method " + std::to_string(context.method));
		break;
	}
	if (status != drpc::Status::SUCCESS)
		failures_.fetch_add(1, std::memory_order_relaxed);
	return status;
}

drpc::Status AdminModule::list_modules(const drpc::CallContext &context, std::span<const uint8_t> body,
                                       drpc::ResponseBody &out)
{
	admin::ListModulesRequest request;
	if (!decode(body, request))
		return drpc::Status::FAILED_UNMARSHAL_PAYLOAD;
	drpc::log::debug(log_component, caller(context) + ": LIST_MODULES");

	admin::ListModulesResponse response;
	*response.add_modules() = to_message(own_status());
	for (const ModuleStatus &module : manager_.list())
		*response.add_modules() = to_message(module);
	for (const LoadFailureStatus &failure : manager_.failures())
		*response.add_failures() = to_message(failure);
	return encode(response, out);
}

drpc::Status AdminModule::stats(const drpc::CallContext &context, std::span<const uint8_t> body,
                                drpc::ResponseBody &out)
{
	admin::StatsRequest request;
	if (!decode(body, request))
		return drpc::Status::FAILED_UNMARSHAL_PAYLOAD;
	drpc::log::debug(log_component, caller(context) + ": STATS");

	const drpc::ServerStats server = server_stats_ ? server_stats_() : drpc::ServerStats{};
	admin::StatsResponse response;
	response.set_sessions_open(server.sessions_open);
	response.set_sessions_total(server.sessions_total);
	response.set_calls_served(server.calls_served);
	response.set_uptime_ms(
		static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started_).count()));
	response.set_modules_loaded(static_cast<uint32_t>(manager_.size()));
	return encode(response, out);
}

drpc::Status AdminModule::change(const drpc::CallContext &context, std::span<const uint8_t> body,
                                 drpc::ResponseBody &out)
{
	const auto method = static_cast<AdminMethod>(context.method);
	std::string path;
	int32_t id = 0;
	std::string request_text;
	if (method == AdminMethod::load) {
		admin::LoadRequest request;
		if (!decode(body, request))
			return drpc::Status::FAILED_UNMARSHAL_PAYLOAD;
		path = request.path();
		request_text = "LOAD '" + path + "'";
	} else {
		admin::UnloadRequest unload_request;
		admin::ReloadRequest reload_request;
		const bool decoded = method == AdminMethod::unload ? decode(body, unload_request)
		                                                   : decode(body, reload_request);
		if (!decoded)
			return drpc::Status::FAILED_UNMARSHAL_PAYLOAD;
		id = method == AdminMethod::unload ? unload_request.id() : reload_request.id();
		request_text = method_name(method) + " module " + std::to_string(id);
	}

	ModuleOperation operation;
	if (std::string why = refusal(context); !why.empty()) {
		operation.error = std::move(why);
	} else if (method == AdminMethod::load && path.empty()) {
		operation.error = "LOAD needs a path: a file name in the plugins directory, or a path to a file in it";
	} else if (method != AdminMethod::load && is_reserved_id(id)) {
		operation.error = reserved_refusal(method, id);
	} else {
		try {
			if (method == AdminMethod::load)
				operation = manager_.load(path);
			else if (method == AdminMethod::unload)
				operation = manager_.unload(id);
			else
				operation = manager_.reload(id);
		} catch (const std::exception &e) {
			// The manager reports refusals in the operation; this is what it
			// did not expect (out of memory, a broken invariant).
			operation = ModuleOperation{};
			operation.error = std::string("internal error: ") + e.what();
		}
	}
	log_outcome(context, request_text, operation);
	return encode(to_message(operation), out);
}

std::string AdminModule::refusal(const drpc::CallContext &context) const
{
	if (context.peer.uid == 0 || context.peer.uid == host_uid_)
		return {};
	return "permission denied: uid " + std::to_string(context.peer.uid) +
	       " may not change the plugins (only root and the host's uid " + std::to_string(host_uid_) + " may)";
}

ModuleStatus AdminModule::own_status() const
{
	const auto age = std::chrono::duration_cast<std::chrono::system_clock::duration>(Clock::now() - started_);
	ModuleStatus status;
	status.id = admin_module_id;
	status.name = name();
	status.version = DRPC_HOST_VERSION;
	status.generation = 1;
	status.loaded_since = std::chrono::system_clock::now() - age;
	status.calls_served = calls_.load(std::memory_order_relaxed);
	status.failures = failures_.load(std::memory_order_relaxed);
	status.state = "builtin";
	return status;
}

} // namespace drpc::host
