// SPDX-License-Identifier: Apache-2.0
// A plugin as built against plugin.h version 2 (module 4302): its struct
// ends before describe. The describe it carries past its struct_size marks
// the environment if called: a host must never read past struct_size.
#include "raw_plugin.hpp"

namespace {

const drpc_plugin_description *describe(void *)
{
	::setenv("DRPC_TEST_RAN_v2_describe", "1", 1);
	return nullptr;
}

} // namespace

extern "C" {
[[gnu::section(DRPC_PLUGIN_INFO_SECTION), gnu::used]] const drpc_plugin_info drpc_plugin_info_record = {
	DRPC_PLUGIN_INFO_MAGIC, DRPC_PLUGIN_ABI_VERSION, 4302, "v2", "2.0.0"};

[[gnu::visibility("default")]] const drpc_plugin *drpc_plugin_entry(void)
{
	static constexpr drpc_plugin descriptor = [] {
		drpc_plugin plugin = raw_plugin::descriptor(&drpc_plugin_info_record);
		plugin.struct_size = DRPC_PLUGIN_SIZE_V2;
		plugin.describe = &describe;
		return plugin;
	}();
	return &descriptor;
}
}
