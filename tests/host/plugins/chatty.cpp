// SPDX-License-Identifier: Apache-2.0
// A hand-written test plugin linked without the export map, exporting ten
// helper functions besides its entry: it loads, with a warning naming the count.
#include "raw_plugin.hpp"

#define CHATTY_EXPORT(n)                                                                                               \
	[[gnu::visibility("default")]] int chatty_helper_##n(int x) { return x + n; }

extern "C" {

CHATTY_EXPORT(0)
CHATTY_EXPORT(1)
CHATTY_EXPORT(2)
CHATTY_EXPORT(3)
CHATTY_EXPORT(4)
CHATTY_EXPORT(5)
CHATTY_EXPORT(6)
CHATTY_EXPORT(7)
CHATTY_EXPORT(8)
CHATTY_EXPORT(9)

[[gnu::section(DRPC_PLUGIN_INFO_SECTION), gnu::used]] const drpc_plugin_info drpc_plugin_info_record = {
	DRPC_PLUGIN_INFO_MAGIC, DRPC_PLUGIN_ABI_VERSION, 4900, "chatty", "1.0.0",
};

[[gnu::visibility("default")]] const drpc_plugin *drpc_plugin_entry(void)
{
	static const drpc_plugin descriptor = raw_plugin::descriptor(&drpc_plugin_info_record);
	return &descriptor;
}

} // extern "C"
