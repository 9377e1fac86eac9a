// SPDX-License-Identifier: Apache-2.0
// The smallest raw-bytes plugin: module 1000, method 0 ECHO answers the call's
// body unchanged.

#include <drpc/plugin.hpp>

namespace {

using drpc::plugin::CallContext;
using drpc::plugin::Output;
using drpc::plugin::Status;

class EchoModule : public drpc::plugin::Module {
public:
	static constexpr int32_t echo_method = 0;

	Status call(const CallContext &context, std::span<const uint8_t> body, Output &out) override
	{
		if (context.method != echo_method)
			return Status::unknown_method;
		// The host refuses a buffer only when the answer is over its message limit.
		return out.write(body) ? Status::success : Status::failed_marshal;
	}

	/// Any message comes back unchanged; echo.Message (proto/echo.proto) is
	/// the type that lets a client call it by name with JSON.
	const drpc_plugin_description *description() noexcept override
	{
		static constexpr drpc_method_description methods[] = {
			{echo_method, 0, "Echo", "echo.Message", "echo.Message"},
		};
		const std::span<const uint8_t> set = drpc::plugin::embedded_descriptor_set();
		description_ = {DRPC_PLUGIN_DESCRIPTION_VERSION, 1, methods, set.data(), set.size()};
		return &description_;
	}

private:
	drpc_plugin_description description_{};
};

} // namespace

DRPC_PLUGIN(EchoModule, 1000, "echo", "1.0.0")
