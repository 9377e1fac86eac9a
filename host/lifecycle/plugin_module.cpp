// SPDX-License-Identifier: Apache-2.0
// PluginModule: calls across the C ABI and the order of teardown.
#include "plugin_module.hpp"

#include "plugin_info.hpp"

#include <drpc/error.hpp>
#include <drpc/log.hpp>

#include <dlfcn.h>

#include <cstring>
#include <limits>
#include <string_view>

namespace drpc::host {
namespace {

constexpr std::string_view log_component = "plugins";

/// drpc_output.reserve() for a call's answer: host_data is the ResponseBody.
uint8_t *reserve_response(void *host_data, uint64_t size) noexcept
{
	// Reserving nothing is a valid, empty answer; the plugin must still see
	// success, so point it at a byte it will never write to.
	static uint8_t empty_answer;
	if (size > std::numeric_limits<size_t>::max())
		return nullptr;
	const std::span<uint8_t> buffer = static_cast<drpc::ResponseBody *>(host_data)->reserve(size);
	if (size == 0)
		return &empty_answer;
	return buffer.empty() ? nullptr : buffer.data();
}

/// A growable buffer for exported state.
struct StateBuffer {
	std::string bytes;
	/// Exported state beyond this is refused: it is held twice in memory.
	static constexpr uint64_t limit = uint64_t{1} << 30;
};

uint8_t *reserve_state(void *host_data, uint64_t size) noexcept
{
	static uint8_t empty_state;
	if (size > StateBuffer::limit)
		return nullptr;
	try {
		auto &buffer = *static_cast<StateBuffer *>(host_data);
		buffer.bytes.assign(static_cast<size_t>(size), '\0');
		return size == 0 ? &empty_state : reinterpret_cast<uint8_t *>(buffer.bytes.data());
	} catch (...) {
		return nullptr;
	}
}

/// A status outside drpc.Status answers FAILURE.
drpc::Status known_status(int32_t status) noexcept
{
	if (status < DRPC_STATUS_SUCCESS || status > DRPC_STATUS_FAILED_MARSHAL)
		return drpc::Status::FAILURE;
	return static_cast<drpc::Status>(status);
}

} // namespace

PluginModule::PluginModule(LoadedPlugin loaded)
	: handler_failures_("failures of module " + std::to_string(loaded.info.module_id)), loaded_(std::move(loaded))
{
}

PluginModule::~PluginModule()
{
	// Instance before library: destroy() is code inside the library.
	loaded_.plugin->destroy(loaded_.instance);
	const std::string description = describe();
	const std::string copy = loaded_.mapped.string();
	loaded_.library.unload();

	// dlclose() may leave the code mapped (a GNU_UNIQUE symbol, a thread-local
	// with a destructor, a library that dlopen()ed itself): say so, since
	// every reload of such a plugin then costs memory until the host exits.
	if (void *still = ::dlopen(copy.c_str(), RTLD_NOW | RTLD_NOLOAD); still != nullptr) {
		::dlclose(still);
		drpc::log::warn(log_component, description + " is still mapped after unloading (pinned)");
	}
	drpc::log::debug(log_component, "unloaded " + description);
	// loaded_.copy removes the runtime copy as the members go.
}

drpc::Status PluginModule::handle_call(const drpc::CallContext &context, std::span<const uint8_t> body,
                                       drpc::ResponseBody &out)
{
	if (loaded_.access && !loaded_.access->allows(context.peer))
		return refuse_call(context, loaded_.info.name);
	const drpc_call_info info{
		.version = DRPC_CALL_INFO_VERSION,
		.module = context.module,
		.method = context.method,
		.peer_pid = static_cast<int32_t>(context.peer.pid),
		.peer_uid = static_cast<uint32_t>(context.peer.uid),
		.peer_gid = static_cast<uint32_t>(context.peer.gid),
		.sequence = context.sequence,
	};
	drpc_output output{
		.version = DRPC_OUTPUT_VERSION,
		.reserved = 0,
		.host_data = &out,
		.reserve = &reserve_response,
	};
	const uint8_t *bytes = body.empty() ? nullptr : body.data();
	if (loaded_.call_with_error == nullptr) {
		const int32_t status = loaded_.plugin->call(loaded_.instance, &info, bytes, body.size(), &output);
		return known_status(status);
	}
	drpc_error error;
	error.message[0] = '\0'; // the rest is never read: the text ends at the first NUL
	const int32_t status = loaded_.call_with_error(loaded_.instance, &info, bytes, body.size(), &output, &error);
	if (status != DRPC_STATUS_SUCCESS && error.message[0] != '\0') {
		drpc::log::warn(handler_failures_, log_component,
		                "module " + std::to_string(context.module) + " method " +
		                        std::to_string(context.method) + " failed: " +
		                        drpc::log::untrusted(std::string_view(
						error.message, ::strnlen(error.message, sizeof(error.message)))));
	}
	return known_status(status);
}

std::string PluginModule::export_state()
{
	if (!has_state_handoff())
		throw drpc::Error(describe() + ": does not export state");
	StateBuffer buffer;
	drpc_output output{
		.version = DRPC_OUTPUT_VERSION,
		.reserved = 0,
		.host_data = &buffer,
		.reserve = &reserve_state,
	};
	drpc_error error{};
	if (loaded_.plugin->export_state(loaded_.instance, &output, &error) != DRPC_STATUS_SUCCESS)
		throw drpc::Error(describe() + ": export_state failed: " + plugin_error_text(error));
	return std::move(buffer.bytes);
}

void PluginModule::import_state(std::span<const uint8_t> state)
{
	if (!has_state_handoff())
		throw drpc::Error(describe() + ": does not import state");
	drpc_error error{};
	if (loaded_.plugin->import_state(loaded_.instance, state.empty() ? nullptr : state.data(), state.size(),
	                                 &error) != DRPC_STATUS_SUCCESS)
		throw drpc::Error(describe() + ": import_state failed: " + plugin_error_text(error));
}

} // namespace drpc::host
