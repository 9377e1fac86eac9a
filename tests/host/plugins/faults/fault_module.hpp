// SPDX-License-Identifier: Apache-2.0
/// @file fault_module.hpp
/// The base of every fault plugin: method 0 echoes, so a test sees the plugin
/// serving before it asks for the fault with method 1.
#pragma once

#include <drpc/plugin.hpp>

namespace fault_plugin {

using drpc::plugin::CallContext;
using drpc::plugin::Output;
using drpc::plugin::Status;

/// Answers method 0 with the call's body and hands method 1 to fault();
/// every other method is unknown.
class FaultModule : public drpc::plugin::Module {
public:
	Status call(const CallContext &context, std::span<const uint8_t> body, Output &out) override
	{
		switch (context.method) {
		case 0:
			return out.write(body) ? Status::success : Status::failed_marshal;
		case 1:
			return fault(out);
		default:
			return Status::unknown_method;
		}
	}

protected:
	/// Method 1: what makes this plugin a fault plugin.
	virtual Status fault(Output &out) = 0;
};

} // namespace fault_plugin
