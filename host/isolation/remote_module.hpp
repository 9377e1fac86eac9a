// SPDX-License-Identifier: Apache-2.0
/// @file remote_module.hpp
/// An isolated module as the host's registry sees it: a HostedModule that
/// forwards each call to its worker process over the worker's link
/// (worker_link.hpp), one hop, several calls at once, answered by the link
/// (drpc::DeferredAnswer) without the caller's session thread waiting.
#pragma once

#include "supervised_worker.hpp"

#include "../lifecycle/hosted_module.hpp"
#include "../lifecycle/runtime_dir.hpp"

#include <drpc/lifecycle/access_list.hpp>

#include <drpc/log.hpp>

#include <chrono>
#include <memory>

namespace drpc::host::isolation {

/// What a RemoteModule is made of.
struct RemoteParts {
	std::filesystem::path source;
	uint64_t generation = 0;
	drpc_plugin_info info{};
	RuntimeFile copy; ///< the private copy the worker maps, removed with the module
	std::shared_ptr<const AccessList> access;
	std::shared_ptr<SupervisedWorker> worker; ///< started
};

class RemoteModule final : public HostedModule {
public:
	explicit RemoteModule(RemoteParts parts);
	/// Stops the worker (no call runs any more: the registry's leases).
	~RemoteModule() override;

	[[nodiscard]] int32_t id() const noexcept override { return parts_.info.module_id; }
	[[nodiscard]] std::string name() const override { return parts_.info.name; }
	[[nodiscard]] std::string version() const override { return parts_.info.version; }
	[[nodiscard]] const drpc_plugin_info &info() const noexcept override { return parts_.info; }
	[[nodiscard]] const std::filesystem::path &source() const noexcept override { return parts_.source; }
	[[nodiscard]] uint64_t generation() const noexcept override { return parts_.generation; }
	[[nodiscard]] Isolation isolation() const noexcept override { return Isolation::process; }
	/// Nothing of the plugin is mapped in the host.
	[[nodiscard]] std::filesystem::path mapped_copy() const override { return {}; }
	[[nodiscard]] std::optional<WorkerHealth> worker_health() const override { return parts_.worker->health(); }
	bool stop_worker() noexcept override
	{
		parts_.worker->stop();
		return true;
	}
	/// The pages its worker's shared region holds in free slots.
	void release_idle_memory() noexcept override;

	/// Checks modules.<name>.allow, then forwards the call with its caller
	/// (relay_header.hpp). FAILURE while the worker is down or failed, when
	/// it dies during the call, and when the call runs past call_timeout_ms
	/// (then the worker is killed and restarted).
	[[nodiscard]] bool answers_later() const noexcept override { return true; }
	void start_call(const drpc::CallContext &context, std::span<const uint8_t> body,
	                drpc::DeferredAnswer &answer) override;
	/// The same, waiting for the answer (for callers without a session).
	drpc::Status handle_call(const drpc::CallContext &context, std::span<const uint8_t> body,
	                         drpc::ResponseBody &out) override;

	/// Through the worker's control module (worker_control.hpp): exported
	/// in the old worker, imported in the new one before its first call.
	[[nodiscard]] bool has_state_handoff() const noexcept override;
	[[nodiscard]] std::string export_state() override;
	void import_state(std::span<const uint8_t> state) override;

	/// What the worker's plugin says of itself, asked once by
	/// learn_description(); null until then or when it says nothing.
	[[nodiscard]] std::shared_ptr<const ModuleDescription> description() const noexcept override
	{
		return description_;
	}
	/// Asks the worker for the plugin's description (its control module) and
	/// keeps it once checked. Call once, before the module is published. A
	/// worker that answers nothing usable leaves the module undescribed, with
	/// one log line saying why: it still serves, called by number.
	void learn_description() noexcept;

private:
	/// The worker's link, or null with one log line when it is down.
	[[nodiscard]] std::shared_ptr<WorkerLink> serving_link();
	/// Calls the worker's control module; the result after its outcome
	/// byte. Throws drpc::Error with the worker's reason.
	std::string control(int32_t method, std::span<const uint8_t> body, std::string_view what);

	RemoteParts parts_;
	std::shared_ptr<const ModuleDescription> description_;
	drpc::log::RateLimit down_limit_;
};

} // namespace drpc::host::isolation
