// SPDX-License-Identifier: Apache-2.0
// A hand-written test plugin claiming a module ID of the host's reserved
// range: refused from its info record, before its constructor can run.
#include "raw_plugin.hpp"

RAW_PLUGIN_MARK_CONSTRUCTOR(reserved)

extern "C" {

[[gnu::section(DRPC_PLUGIN_INFO_SECTION), gnu::used]] const drpc_plugin_info drpc_plugin_info_record = {
	DRPC_PLUGIN_INFO_MAGIC, DRPC_PLUGIN_ABI_VERSION, 0x7FFF0001, "reserved", "1.0.0",
};

[[gnu::visibility("default")]] const drpc_plugin *drpc_plugin_entry(void)
{
	static const drpc_plugin descriptor = raw_plugin::descriptor(&drpc_plugin_info_record);
	return &descriptor;
}

} // extern "C"
