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
};

} // namespace

DRPC_PLUGIN(EchoModule, 1000, "echo", "1.0.0")
