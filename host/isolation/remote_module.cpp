// SPDX-License-Identifier: Apache-2.0
// Forwarding one call to a worker process.
#include "remote_module.hpp"

#include "relay_header.hpp"
#include "worker_control.hpp"
#include "worker_description.hpp"

#include <drpc/error.hpp>

#include <cstring>

namespace drpc::host::isolation {
namespace {

constexpr std::string_view log_component = "isolation";

} // namespace

RemoteModule::RemoteModule(RemoteParts parts)
	: parts_(std::move(parts)), down_limit_("calls to a module whose worker is down")
{
}

RemoteModule::~RemoteModule() { parts_.worker->stop(); }

std::shared_ptr<WorkerLink> RemoteModule::serving_link()
{
	std::shared_ptr<WorkerLink> link = parts_.worker->serving();
	if (!link) {
		const WorkerHealth health = parts_.worker->health();
		drpc::log::warn(down_limit_, log_component,
		                parts_.worker->label() + (health.failed ? " has failed" : " is restarting") +
		                        " (last: " + health.last_cause + "): call answered FAILURE");
	}
	return link;
}

void RemoteModule::start_call(const drpc::CallContext &context, std::span<const uint8_t> body,
                              drpc::DeferredAnswer &answer)
{
	if (parts_.access && !parts_.access->allows(context.peer)) {
		answer.answer(refuse_call(context, parts_.info.name));
		return;
	}
	if (const std::shared_ptr<WorkerLink> link = serving_link())
		link->start_call(context, body, std::move(answer));
	else
		answer.answer(drpc::Status::FAILURE);
}

drpc::Status RemoteModule::handle_call(const drpc::CallContext &context, std::span<const uint8_t> body,
                                       drpc::ResponseBody &out)
{
	if (parts_.access && !parts_.access->allows(context.peer))
		return refuse_call(context, parts_.info.name);
	const std::shared_ptr<WorkerLink> link = serving_link();
	return link ? link->call(context, body, out) : drpc::Status::FAILURE;
}

void RemoteModule::release_idle_memory() noexcept
{
	if (const std::shared_ptr<WorkerLink> link = parts_.worker->serving())
		link->release_free_slots();
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
	const std::shared_ptr<WorkerLink> link = parts_.worker->serving();
	if (!link)
		throw drpc::Error(describe() + ": " + std::string(what) + ": its worker is not serving");
	std::string result;
	const drpc::Status status = link->control(method, body, result);
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
