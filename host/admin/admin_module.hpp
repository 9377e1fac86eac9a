// SPDX-License-Identifier: Apache-2.0
/// @file admin_module.hpp
/// The host's built-in admin module (proto/admin.proto): lists the plugins,
/// loads, unloads and reloads them on request, and reports host statistics.
#pragma once

#include "admin.pb.h"

#include <drpc/lifecycle/access_list.hpp>
#include <drpc/lifecycle/lifecycle.hpp>
#include <drpc/lifecycle/reserved_ids.hpp>
#include <drpc/module.hpp>
#include <drpc/server.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <sys/types.h>

namespace drpc::host {

/// The admin module's methods: admin.proto's admin.Method.
using AdminMethod = ::admin::Method;

/// Module admin_module_id, "admin". By default only root and the user the
/// host runs as may call it at all; anyone else gets FAILURE before the
/// request is read. `modules.admin.allow` (set_read_access()) opens
/// LIST_MODULES, STATS and DESCRIBE to more uids or gids; LOAD, UNLOAD and RELOAD stay
/// with root and the host's user whatever it says, since they run code
/// inside the host, and answer the others "permission denied". An operation
/// that was understood but failed (or was refused) is answered SUCCESS with
/// ModuleOpResponse.ok = false: a dRPC status other than SUCCESS carries no
/// body to say why.
class AdminModule final : public drpc::Module {
public:
	using Clock = std::chrono::steady_clock;
	/// The server's counters; a function so that the module needs no server
	/// (tests), and so that it is read at the moment of each STATS call.
	using StatsSource = std::function<drpc::ServerStats()>;

	/// `manager` must outlive the module. `started` is when the host started,
	/// for uptime and for the admin module's own "loaded since".
	AdminModule(Lifecycle &plugins, StatsSource server_stats, Clock::time_point started = Clock::now());

	[[nodiscard]] int32_t id() const noexcept override { return admin_module_id; }
	[[nodiscard]] std::string name() const override { return "admin"; }

	drpc::Status handle_call(const drpc::CallContext &context, std::span<const uint8_t> body,
	                         drpc::ResponseBody &out) override;

	/// Who may call the module (and so read its listings); before it serves.
	void set_read_access(AccessList access) { access_ = std::move(access); }

	/// The longest path LOAD accepts (PATH_MAX): longer ones are refused
	/// without being echoed into the log or the answer.
	static constexpr size_t max_load_path_bytes = 4096;

private:
	drpc::Status list_modules(const drpc::CallContext &context, std::span<const uint8_t> body,
	                          drpc::ResponseBody &out);
	drpc::Status stats(const drpc::CallContext &context, std::span<const uint8_t> body, drpc::ResponseBody &out);
	drpc::Status describe_modules(const drpc::CallContext &context, std::span<const uint8_t> body,
	                              drpc::ResponseBody &out);
	drpc::Status change(const drpc::CallContext &context, std::span<const uint8_t> body, drpc::ResponseBody &out);

	/// Why the caller may not change the plugins, or "" when it may.
	[[nodiscard]] std::string refusal(const drpc::CallContext &context) const;
	[[nodiscard]] ModuleRecord own_status() const;

	Lifecycle &plugins_;
	const StatsSource server_stats_;
	const Clock::time_point started_;
	const uid_t host_uid_;
	AccessList access_; // default: only root and the host's user
	// The admin module's own counters for its listing row; the registry
	// counts it too, but the manager lists only plugins.
	std::atomic<uint64_t> calls_{0};
	std::atomic<uint64_t> failures_{0};
};

} // namespace drpc::host
