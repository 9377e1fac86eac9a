// SPDX-License-Identifier: Apache-2.0
/// @file worker_module.hpp
/// Inside a worker: the plugin's module as the worker's server sees it,
/// answering the host only and giving the plugin the host's caller.
#pragma once

#include "shared_region.hpp"

#include "../lifecycle/hosted_module.hpp"

#include <drpc/log.hpp>
#include <drpc/module.hpp>

#include <memory>
#include <sys/types.h>

namespace drpc::host::isolation {

class WorkerModule final : public drpc::Module {
public:
	/// Answers calls from `host_uid` only, whose bodies start with a
	/// RelayHeader (relay_header.hpp); large bodies and answers cross in
	/// `region`, shared with the host.
	WorkerModule(std::shared_ptr<HostedModule> plugin, uid_t host_uid, std::shared_ptr<const SharedRegion> region);

	[[nodiscard]] int32_t id() const noexcept override { return plugin_->id(); }
	[[nodiscard]] std::string name() const override { return plugin_->name(); }
	drpc::Status handle_call(const drpc::CallContext &context, std::span<const uint8_t> body,
	                         drpc::ResponseBody &out) override;

private:
	std::shared_ptr<HostedModule> plugin_;
	const uid_t host_uid_;
	const std::shared_ptr<const SharedRegion> region_;
	drpc::log::RateLimit refusals_{"calls refused by a worker"};
};

} // namespace drpc::host::isolation
