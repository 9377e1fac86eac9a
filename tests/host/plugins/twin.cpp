// SPDX-License-Identifier: Apache-2.0
// A test plugin claiming the same module ID as good.cpp (4242) under another name.
#include <drpc/plugin.hpp>

namespace {

class Twin : public drpc::plugin::Module {
public:
	drpc::plugin::Status call(const drpc::plugin::CallContext &, std::span<const uint8_t>,
	                          drpc::plugin::Output &) override
	{
		return drpc::plugin::Status::success;
	}
};

} // namespace

DRPC_PLUGIN(Twin, 4242, "twin", "1.0.0")
