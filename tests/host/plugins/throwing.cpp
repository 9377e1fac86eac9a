// SPDX-License-Identifier: Apache-2.0
// A test plugin whose constructor (its create()) always throws.
#include <drpc/plugin.hpp>

#include <stdexcept>

namespace {

class Throwing : public drpc::plugin::Module {
public:
	Throwing() { throw std::runtime_error("out of cheese"); }
	drpc::plugin::Status call(const drpc::plugin::CallContext &, std::span<const uint8_t>,
	                          drpc::plugin::Output &) override
	{
		return drpc::plugin::Status::success;
	}
};

} // namespace

DRPC_PLUGIN(Throwing, 4300, "throwing", "1.0.0")
