// SPDX-License-Identifier: Apache-2.0
// The worker's control module: state export and import for the host.
#include "worker_control.hpp"

#include "worker_description.hpp"

#include <cstring>

namespace drpc::host::isolation {
namespace {

drpc::Status answer(drpc::ResponseBody &out, uint8_t outcome, std::string_view rest)
{
	const std::span<uint8_t> buffer = out.reserve(rest.size() + 1);
	if (buffer.empty())
		return drpc::Status::FAILURE;
	buffer[0] = outcome;
	if (!rest.empty())
		std::memcpy(buffer.data() + 1, rest.data(), rest.size());
	return drpc::Status::SUCCESS;
}

} // namespace

WorkerControl::WorkerControl(std::shared_ptr<HostedModule> plugin, uid_t host_uid)
	: plugin_(std::move(plugin)), host_uid_(host_uid)
{
}

drpc::Status WorkerControl::handle_call(const drpc::CallContext &context, std::span<const uint8_t> body,
                                        drpc::ResponseBody &out)
{
	if (context.peer.uid != host_uid_)
		return drpc::Status::FAILURE;
	try {
		switch (static_cast<ControlMethod>(context.method)) {
		case ControlMethod::export_state:
			return answer(out, control_ok, plugin_->export_state());
		case ControlMethod::import_state:
			plugin_->import_state(body);
			return answer(out, control_ok, {});
		case ControlMethod::describe:
			return answer(out, control_ok, encode_worker_description(plugin_->description().get()));
		}
	} catch (const std::exception &e) {
		return answer(out, control_failed, e.what());
	}
	return drpc::Status::UNKNOWN_METHOD;
}

} // namespace drpc::host::isolation
