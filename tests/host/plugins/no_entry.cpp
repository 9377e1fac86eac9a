// SPDX-License-Identifier: Apache-2.0
// A hand-written test plugin with a valid info record but no
// drpc_plugin_entry symbol.
#include "raw_plugin.hpp"

extern "C" {

[[gnu::section(DRPC_PLUGIN_INFO_SECTION), gnu::used]] const drpc_plugin_info drpc_plugin_info_record = {
	DRPC_PLUGIN_INFO_MAGIC, DRPC_PLUGIN_ABI_VERSION, 4500, "no_entry", "1.0.0",
};

} // extern "C"
