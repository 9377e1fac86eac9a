// SPDX-License-Identifier: Apache-2.0
// A worker's module: the peer check and the relay header, then the plugin.
#include "worker_module.hpp"

#include "relay_header.hpp"
#include "worker_answer.hpp"

namespace drpc::host::isolation {
namespace {

constexpr std::string_view log_component = "worker";

} // namespace

WorkerModule::WorkerModule(std::shared_ptr<HostedModule> plugin, uid_t host_uid,
                           std::shared_ptr<const SharedRegion> region)
	: plugin_(std::move(plugin)), host_uid_(host_uid), region_(std::move(region))
{
}

drpc::Status WorkerModule::handle_call(const drpc::CallContext &context, std::span<const uint8_t> body,
                                       drpc::ResponseBody &out)
{
	// The socket lives in the host's private directory, so only the host's
	// uid (or root) can reach it; checked anyway, since a worker dropped to
	// another user must never serve that user.
	if (context.peer.uid != host_uid_) {
		drpc::log::warn(refusals_, log_component,
		                "refused a call from uid " + std::to_string(context.peer.uid) + " (pid " +
		                        std::to_string(context.peer.pid) + "): only the host (uid " +
		                        std::to_string(host_uid_) + ") may call");
		return drpc::Status::FAILURE;
	}
	const std::optional<RelayHeader> header = decode_relay_header(body);
	if (!header) {
		drpc::log::warn(refusals_, log_component, "refused a call without a relay header");
		return drpc::Status::FAILURE;
	}
	std::span<uint8_t> answer_area;
	if (header->slot != no_slot) {
		if (header->slot >= SharedRegion::slot_count || header->body_in_slot > SharedRegion::area_bytes ||
		    (header->body_in_slot > 0 && !body.empty())) {
			drpc::log::warn(refusals_, log_component,
			                "refused a call with a bad relay header (slot " + std::to_string(header->slot) +
			                        ", " + std::to_string(header->body_in_slot) + " bytes in it)");
			return drpc::Status::FAILURE;
		}
		answer_area = region_->answer_area(header->slot);
		if (header->body_in_slot > 0)
			body = region_->call_area(header->slot).first(header->body_in_slot);
	}
	const drpc::CallContext caller{
		.module = context.module,
		.method = context.method,
		.sequence = header->sequence,
		.peer = {.pid = header->peer_pid, .uid = header->peer_uid, .gid = header->peer_gid},
	};
	WorkerAnswer answer(out, answer_area);
	const drpc::Status status = plugin_->handle_call(caller, body, answer);
	if (status == drpc::Status::SUCCESS && !answer.finish())
		return drpc::Status::FAILURE;
	return status;
}

} // namespace drpc::host::isolation
