// SPDX-License-Identifier: Apache-2.0
// Forwarding one call to a worker process.
#include "remote_module.hpp"

#include "call_placement.hpp"
#include "relay_header.hpp"
#include "worker_control.hpp"
#include "worker_description.hpp"

#include <drpc/codec.hpp>
#include <drpc/error.hpp>

#include <cstring>

namespace drpc::host::isolation {
namespace {

constexpr std::string_view log_component = "isolation";

} // namespace

RemoteModule::RemoteModule(RemoteParts parts)
	: parts_(std::move(parts)),
	  down_limit_("calls to a module whose worker is down"),
	  error_limit_("calls failed on the way to a worker")
{
}

RemoteModule::~RemoteModule() { parts_.worker->stop(); }

drpc::Status RemoteModule::handle_call(const drpc::CallContext &context, std::span<const uint8_t> body,
                                       drpc::ResponseBody &out)
{
	if (parts_.access && !parts_.access->allows(context.peer))
		return refuse_call(context, parts_.info.name);
	const std::shared_ptr<WorkerConnections> worker = parts_.worker->serving();
	if (!worker) {
		const WorkerHealth health = parts_.worker->health();
		drpc::log::warn(down_limit_, log_component,
		                parts_.worker->label() + (health.failed ? " has failed" : " is restarting") +
		                        " (last: " + health.last_cause + "): call answered FAILURE");
		return drpc::Status::FAILURE;
	}
	drpc::Status status = drpc::Status::FAILURE;
	try {
		WorkerLease lease = worker->take(current_cpu());
		// Held until the answer is in: its wakeups stay on this CPU.
		const CallerPin pin(lease.home_cpu());
		// A large body crosses in the slot: one copy here instead of two
		// through the socket, and the plugin reads it in place.
		uint32_t body_in_slot = 0;
		std::span<const uint8_t> inline_body = body;
		std::span<const uint8_t> answer_area;
		if (lease.slot) {
			answer_area = worker->region().answer_area(*lease.slot);
			if (body.size() >= SharedRegion::min_body_bytes && body.size() <= SharedRegion::area_bytes) {
				std::memcpy(worker->region().call_area(*lease.slot).data(), body.data(), body.size());
				body_in_slot = static_cast<uint32_t>(body.size());
				inline_body = {};
			}
		}
		const auto header = encode_relay_header(context, lease.slot.value_or(no_slot), body_in_slot, pin.cpu());
		lease.connection->send_msg(
			drpc::codec::CallView{
				.module = context.module,
				.method = context.method,
				.sequence = 0,
				.body = std::string_view(reinterpret_cast<const char *>(inline_body.data()),
		                                         inline_body.size()),
			},
			header, parts_.call_timeout, [&](const drpc::codec::ResponseView &response) {
				status = response.status;
				if (status != drpc::Status::SUCCESS)
					return;
				const std::optional<std::span<const uint8_t>> answer =
					read_answer(std::span(reinterpret_cast<const uint8_t *>(response.body.data()),
			                                      response.body.size()),
			                            answer_area);
				if (!answer) {
					drpc::log::warn(
						error_limit_, log_component,
						parts_.worker->label() +
							": its worker's answer is malformed: call answered FAILURE");
					status = drpc::Status::FAILURE;
					return;
				}
				if (answer->empty())
					return;
				const std::span<uint8_t> buffer = out.reserve(answer->size());
				if (buffer.empty()) {
					status = drpc::Status::FAILURE; // over this host's message limit
					return;
				}
				// Once: what the worker writes in the slot meanwhile is its own loss.
				std::memcpy(buffer.data(), answer->data(), answer->size());
			});
		worker->give_back(std::move(lease));
	} catch (const drpc::TimeoutError &) {
		const std::string reason = "a call to method " + std::to_string(context.method) +
		                           " ran past call_timeout_ms (" + std::to_string(parts_.call_timeout.count()) +
		                           " ms)";
		drpc::log::warn(error_limit_, log_component,
		                parts_.worker->label() + ": " + reason + ": killing its worker");
		parts_.worker->kill(worker, reason);
		return drpc::Status::FAILURE;
	} catch (const std::exception &e) {
		// The worker died under the call, most likely: its monitor says how.
		drpc::log::warn(error_limit_, log_component,
		                parts_.worker->label() + ": call answered FAILURE: " + e.what());
		return drpc::Status::FAILURE;
	}
	return status;
}

void RemoteModule::release_idle_memory() noexcept
{
	if (const std::shared_ptr<WorkerConnections> worker = parts_.worker->serving())
		worker->release_free_slots();
}

bool RemoteModule::has_state_handoff() const noexcept
{
	try {
		return parts_.worker->has_state_handoff();
	} catch (...) {
		return false;
	}
}

std::string RemoteModule::control(int32_t method, std::span<const uint8_t> body, std::string_view what)
{
	const std::shared_ptr<WorkerConnections> worker = parts_.worker->serving();
	if (!worker)
		throw drpc::Error(describe() + ": " + std::string(what) + ": its worker is not serving");
	WorkerLease lease = worker->take();
	std::string result;
	drpc::Status status = drpc::Status::FAILURE;
	lease.connection->send_msg(
		drpc::codec::CallView{
			.module = worker_control_id,
			.method = method,
			.sequence = 0,
			.body = std::string_view(reinterpret_cast<const char *>(body.data()), body.size()),
		},
		std::chrono::milliseconds(0), [&](const drpc::codec::ResponseView &response) {
			status = response.status;
			result.assign(response.body);
		});
	worker->give_back(std::move(lease));
	if (status != drpc::Status::SUCCESS || result.empty())
		throw drpc::Error(describe() + ": " + std::string(what) + ": the worker answered " +
		                  std::string(drpc::to_string(status)));
	if (static_cast<uint8_t>(result[0]) != control_ok)
		throw drpc::Error(describe() + ": " + std::string(what) +
		                  " failed: " + drpc::log::untrusted(std::string_view(result).substr(1), 1024));
	return result.substr(1);
}

std::string RemoteModule::export_state()
{
	return control(static_cast<int32_t>(ControlMethod::export_state), {}, "export_state");
}

void RemoteModule::import_state(std::span<const uint8_t> state)
{
	(void)control(static_cast<int32_t>(ControlMethod::import_state), state, "import_state");
}

void RemoteModule::learn_description() noexcept
{
	try {
		description_ = decode_worker_description(
			control(static_cast<int32_t>(ControlMethod::describe), {}, "describe"));
	} catch (const std::exception &e) {
		drpc::log::warn(log_component, describe() +
		                                       ": its self-description is ignored (it serves undescribed): " +
		                                       drpc::log::untrusted(e.what(), 512));
	}
}

} // namespace drpc::host::isolation
