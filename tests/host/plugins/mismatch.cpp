// SPDX-License-Identifier: Apache-2.0
// A hand-written test plugin whose entry returns an info record that differs
// from its section's (another module ID): refused after mapping. Its
// constructor does run, which makes it the control for the mark the refused-
// before-mapping plugins must not leave.
#include "raw_plugin.hpp"

RAW_PLUGIN_MARK_CONSTRUCTOR(mismatch)

extern "C" {

[[gnu::section(DRPC_PLUGIN_INFO_SECTION), gnu::used]] const drpc_plugin_info drpc_plugin_info_record = {
	DRPC_PLUGIN_INFO_MAGIC, DRPC_PLUGIN_ABI_VERSION, 4600, "mismatch", "1.0.0",
};

static const drpc_plugin_info other_info = {
	DRPC_PLUGIN_INFO_MAGIC, DRPC_PLUGIN_ABI_VERSION, 4601, "mismatch", "1.0.0",
};

[[gnu::visibility("default")]] const drpc_plugin *drpc_plugin_entry(void)
{
	static const drpc_plugin descriptor = raw_plugin::descriptor(&other_info);
	return &descriptor;
}

} // extern "C"
