// SPDX-License-Identifier: Apache-2.0
// A plugin linked to the full protobuf runtime (libprotobuf.so), which the
// host must refuse before mapping it (module 4800): a second build of such a
// plugin aborts the process on its first reload.
#include <drpc/plugin.hpp>

#include <google/protobuf/stubs/common.h>

namespace {

class FullProtobuf : public drpc::plugin::Module {
public:
	FullProtobuf() { GOOGLE_PROTOBUF_VERIFY_VERSION; } // a reference into libprotobuf.so
	drpc::plugin::Status call(const drpc::plugin::CallContext &, std::span<const uint8_t>,
	                          drpc::plugin::Output &) override
	{
		return drpc::plugin::Status::success;
	}
};

} // namespace

DRPC_PLUGIN(FullProtobuf, 4800, "full_protobuf", "1.0.0")
