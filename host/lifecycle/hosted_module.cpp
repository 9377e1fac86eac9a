// SPDX-License-Identifier: Apache-2.0
// The text forms shared by every kind of hosted module.
#include "hosted_module.hpp"

#include "plugin_info.hpp"

namespace drpc::host {

std::string HostedModule::describe() const
{
	return drpc::host::describe(info()) + " from " + source().string() + ", generation " +
	       std::to_string(generation());
}

} // namespace drpc::host
