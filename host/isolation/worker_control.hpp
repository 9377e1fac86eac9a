// SPDX-License-Identifier: Apache-2.0
/// @file worker_control.hpp
/// A small module inside each worker, at a reserved ID no plugin can take,
/// through which the host moves a module's state across a reload: export in
/// the old worker, import in the new one.
#pragma once

#include "../lifecycle/hosted_module.hpp"

#include <drpc/lifecycle/reserved_ids.hpp>

#include <drpc/module.hpp>

#include <memory>
#include <string>
#include <sys/types.h>

namespace drpc::host::isolation {

/// The control module's ID inside a worker (never in the host's registry).
inline constexpr int32_t worker_control_id = reserved_id_first + 1;
static_assert(is_reserved_id(worker_control_id));

/// Its methods. Each answers SUCCESS with a body whose first byte says how
/// it went (control_ok: the rest is the result; control_failed: the rest
/// is why), so that the plugin's reason reaches the host's log.
enum class ControlMethod : int32_t {
	export_state = 0, ///< the rest: the exported state
	import_state = 1, ///< the call's body is the state
	describe = 2,     ///< the rest: the module's description (worker_description.hpp)
};
inline constexpr uint8_t control_ok = 0;
inline constexpr uint8_t control_failed = 1;

class WorkerControl final : public drpc::Module {
public:
	/// Answers calls from `host_uid` only.
	WorkerControl(std::shared_ptr<HostedModule> plugin, uid_t host_uid);

	[[nodiscard]] int32_t id() const noexcept override { return worker_control_id; }
	[[nodiscard]] std::string name() const override { return "worker control"; }
	drpc::Status handle_call(const drpc::CallContext &context, std::span<const uint8_t> body,
	                         drpc::ResponseBody &out) override;

private:
	std::shared_ptr<HostedModule> plugin_;
	const uid_t host_uid_;
};

} // namespace drpc::host::isolation
