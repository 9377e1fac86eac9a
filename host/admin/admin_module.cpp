// SPDX-License-Identifier: Apache-2.0
// The admin module: decodes each request, checks who may change the plugins,
// hands the work to the plugin manager and logs every operation with its caller.
#include "admin_module.hpp"

#include "admin_messages.hpp"

#include <drpc/log.hpp>

#include <exception>
#include <optional>
#include <unistd.h>

#ifndef DRPC_HOST_VERSION
#error "DRPC_HOST_VERSION must be defined by the build"
#endif

namespace drpc::host {
namespace {

constexpr std::string_view log_component = "admin";

std::string caller(const drpc::CallContext &context)
{
	return "pid " + std::to_string(context.peer.pid) + " uid " + std::to_string(context.peer.uid);
}

std::string method_name(AdminMethod method)
{
	const std::string &name = ::admin::Method_Name(method);
	return name.empty() ? "method " + std::to_string(static_cast<int32_t>(method)) : name;
}

/// Why module `id` cannot be unloaded or reloaded, when it is not a plugin's.
std::string reserved_refusal(AdminMethod method, int32_t id)
{
	const std::string verb = method == AdminMethod::UNLOAD ? "unloaded" : "reloaded";
	if (id == admin_module_id)
		return "module " + format_module_id(id) + " is the host's built-in admin module; it cannot be " + verb;
	return "module " + format_module_id(id) + " is in the host's reserved range (" +
	       format_module_id(reserved_id_first) + "-" + format_module_id(reserved_id_last) +
	       "), which no plugin serves; it cannot be " + verb;
}

/// "module 4242 (good 1.2.3) from /plugins/good.so, generation 2"
std::string describe(const ModuleRecord &module)
{
	return "module " + format_module_id(module.id) + " (" + module.name + " " + module.version + ") from " +
	       module.source.string() + ", generation " + std::to_string(module.generation);
}

/// What LOAD, UNLOAD and RELOAD act on.
struct ChangeRequest {
	std::string path; ///< LOAD
	int32_t id = 0;   ///< UNLOAD, RELOAD
};

std::optional<ChangeRequest> decode_change(AdminMethod method, std::span<const uint8_t> body)
{
	if (method == AdminMethod::LOAD) {
		admin::LoadRequest request;
		if (!decode(body, request))
			return std::nullopt;
		return ChangeRequest{request.path(), 0};
	}
	if (method == AdminMethod::UNLOAD) {
		admin::UnloadRequest request;
		if (!decode(body, request))
			return std::nullopt;
		return ChangeRequest{{}, request.id()};
	}
	admin::ReloadRequest request;
	if (!decode(body, request))
		return std::nullopt;
	return ChangeRequest{{}, request.id()};
}

/// "LOAD 'good.so'", "UNLOAD module 4242", for logs.
std::string describe(AdminMethod method, const ChangeRequest &request)
{
	if (method == AdminMethod::LOAD)
		return "LOAD '" + drpc::log::untrusted(request.path) + "'";
	return method_name(method) + " module " + format_module_id(request.id);
}

/// Hands a permitted request to the manager; what goes wrong comes back in the operation.
ModuleOperation perform(Lifecycle &manager, AdminMethod method, const ChangeRequest &request)
{
	try {
		if (method == AdminMethod::LOAD)
			return manager.load(request.path);
		if (method == AdminMethod::UNLOAD)
			return manager.unload(request.id);
		return manager.reload(request.id);
	} catch (const std::exception &e) {
		// The manager reports refusals in the operation; this is what it
		// did not expect (out of memory, a broken invariant).
		return {false, std::string("internal error: ") + e.what(), std::nullopt};
	}
}

void log_outcome(const drpc::CallContext &context, const std::string &request, const ModuleOperation &operation,
                 bool refused)
{
	// Refusals are what a client can repeat at will: those are rate-limited.
	static drpc::log::RateLimit refusals("admin permission denied");
	const std::string who = caller(context) + ": " + request;
	if (!operation.ok && refused)
		drpc::log::warn(refusals, log_component,
		                who + " failed: " + drpc::log::untrusted(operation.error, 1024));
	else if (!operation.ok)
		drpc::log::warn(log_component, who + " failed: " + drpc::log::untrusted(operation.error, 1024));
	else if (operation.module)
		drpc::log::info(log_component, who + ": done; " + describe(*operation.module));
	else
		drpc::log::info(log_component, who + ": done");
}

} // namespace

AdminModule::AdminModule(Lifecycle &plugins, StatsSource server_stats, Clock::time_point started)
	: plugins_(plugins), server_stats_(std::move(server_stats)), started_(started), host_uid_(::geteuid())
{
}

drpc::Status AdminModule::handle_call(const drpc::CallContext &context, std::span<const uint8_t> body,
                                      drpc::ResponseBody &out)
{
	calls_.fetch_add(1, std::memory_order_relaxed);
	if (!access_.allows(context.peer)) {
		failures_.fetch_add(1, std::memory_order_relaxed);
		return refuse_call(context, name());
	}
	drpc::Status status = drpc::Status::UNKNOWN_METHOD;
	switch (static_cast<AdminMethod>(context.method)) {
	case AdminMethod::LIST_MODULES:
		status = list_modules(context, body, out);
		break;
	case AdminMethod::LOAD:
	case AdminMethod::UNLOAD:
	case AdminMethod::RELOAD:
		status = change(context, body, out);
		break;
	case AdminMethod::STATS:
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
	drpc::log::debug(log_component, caller(context) + ": " + method_name(AdminMethod::LIST_MODULES));

	admin::ListModulesResponse response;
	*response.add_modules() = to_message(own_status());
	for (const ModuleRecord &module : plugins_.list())
		*response.add_modules() = to_message(module);
	for (const ModuleRecord &failed : plugins_.failures())
		*response.add_failures() = to_failure_message(failed);
	return encode(response, out);
}

drpc::Status AdminModule::stats(const drpc::CallContext &context, std::span<const uint8_t> body,
                                drpc::ResponseBody &out)
{
	admin::StatsRequest request;
	if (!decode(body, request))
		return drpc::Status::FAILED_UNMARSHAL_PAYLOAD;
	drpc::log::debug(log_component, caller(context) + ": " + method_name(AdminMethod::STATS));

	const drpc::ServerStats server = server_stats_ ? server_stats_() : drpc::ServerStats{};
	admin::StatsResponse response;
	response.set_sessions_open(server.sessions_open);
	response.set_sessions_total(server.sessions_total);
	response.set_calls_served(server.calls_served);
	response.set_uptime_ms(static_cast<uint64_t>(
		std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started_).count()));
	response.set_modules_loaded(static_cast<uint32_t>(plugins_.size()));
	response.set_sessions_parked(server.sessions_parked);
	response.set_inflight_bytes(server.inflight_bytes);
	response.set_inflight_peak_bytes(server.inflight_peak_bytes);
	response.set_sessions_refused(server.sessions_refused);
	response.set_refused_session_limit(server.refused_session_limit);
	response.set_refused_no_descriptor(server.refused_no_descriptor);
	response.set_refused_no_thread(server.refused_no_thread);
	response.set_closed_over_budget(server.closed_over_budget);
	response.set_closed_message_timeout(server.closed_message_timeout);
	response.set_closed_idle_timeout(server.closed_idle_timeout);
	response.set_closed_send_timeout(server.closed_send_timeout);
	response.set_closed_framing_error(server.closed_framing_error);
	return encode(response, out);
}

drpc::Status AdminModule::change(const drpc::CallContext &context, std::span<const uint8_t> body,
                                 drpc::ResponseBody &out)
{
	const auto method = static_cast<AdminMethod>(context.method);
	const std::optional<ChangeRequest> request = decode_change(method, body);
	if (!request)
		return drpc::Status::FAILED_UNMARSHAL_PAYLOAD;

	ModuleOperation operation;
	std::string why = refusal(context);
	const bool refused = !why.empty();
	if (refused)
		operation.error = std::move(why);
	else if (method == AdminMethod::LOAD && request->path.empty())
		operation.error = "LOAD needs a path: a file name in the plugins directory, or a path to a file in it";
	else if (method == AdminMethod::LOAD && request->path.size() > max_load_path_bytes)
		operation.error = "LOAD path is " + std::to_string(request->path.size()) + " bytes, longer than " +
		                  std::to_string(max_load_path_bytes);
	else if (method == AdminMethod::LOAD && request->path.find('\0') != std::string::npos)
		operation.error = "LOAD path contains a NUL byte";
	else if (method != AdminMethod::LOAD && is_reserved_id(request->id))
		operation.error = reserved_refusal(method, request->id);
	else
		operation = perform(plugins_, method, *request);
	log_outcome(context, describe(method, *request), operation, refused);
	return encode(to_message(operation), out);
}

std::string AdminModule::refusal(const drpc::CallContext &context) const
{
	if (context.peer.uid == 0 || context.peer.uid == host_uid_)
		return {};
	return "permission denied: uid " + std::to_string(context.peer.uid) +
	       " may not change the plugins (only root and the host's uid " + std::to_string(host_uid_) + " may)";
}

ModuleRecord AdminModule::own_status() const
{
	const auto age = std::chrono::duration_cast<std::chrono::system_clock::duration>(Clock::now() - started_);
	ModuleRecord status;
	status.id = admin_module_id;
	status.name = name();
	status.version = DRPC_HOST_VERSION;
	status.generation = 1;
	status.loaded_since = std::chrono::system_clock::now() - age;
	status.calls_served = calls_.load(std::memory_order_relaxed);
	status.failures = failures_.load(std::memory_order_relaxed);
	status.state = ModuleState::builtin;
	return status;
}

} // namespace drpc::host
