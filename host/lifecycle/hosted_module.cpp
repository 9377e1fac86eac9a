// SPDX-License-Identifier: Apache-2.0
// The text forms shared by every kind of hosted module.
#include "hosted_module.hpp"

#include "plugin_info.hpp"

namespace drpc::host {

std::string_view isolation_name(Isolation isolation) noexcept
{
	switch (isolation) {
	case Isolation::in_process:
		return "in-process";
	case Isolation::process:
		return "process";
	}
	return "unknown";
}

std::string HostedModule::describe() const
{
	return drpc::host::describe(info()) + " from " + source().string() + ", generation " +
	       std::to_string(generation());
}

} // namespace drpc::host
