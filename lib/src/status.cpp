// SPDX-License-Identifier: Apache-2.0
// Names of dRPC statuses, as drpc.proto spells them.
#include <drpc/status.hpp>

namespace drpc {

std::string to_string(Status status)
{
	if (Status_IsValid(status))
		return Status_Name(status);
	return "STATUS_" + std::to_string(static_cast<int32_t>(status));
}

} // namespace drpc
