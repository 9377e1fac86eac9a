// SPDX-License-Identifier: Apache-2.0
// A hand-written test plugin that needs a function no library provides. The
// host maps plugins with RTLD_NOW, so this is a load error, not a crash at
// the first call (Boost.DLL alone would bind lazily).
#include "raw_plugin.hpp"

extern "C" int drpc_test_function_nobody_defines(void);

namespace {

int32_t call_missing(void *, const drpc_call_info *, const uint8_t *, uint64_t, drpc_output *)
{
	return drpc_test_function_nobody_defines();
}

} // namespace

extern "C" {

[[gnu::section(DRPC_PLUGIN_INFO_SECTION), gnu::used]] const drpc_plugin_info drpc_plugin_info_record = {
	DRPC_PLUGIN_INFO_MAGIC, DRPC_PLUGIN_ABI_VERSION, 4800, "unresolved", "1.0.0",
};

[[gnu::visibility("default")]] const drpc_plugin *drpc_plugin_entry(void)
{
	static const drpc_plugin descriptor = {
		DRPC_PLUGIN_ABI_VERSION,
		sizeof(drpc_plugin),
		&drpc_plugin_info_record,
		raw_plugin::create,
		raw_plugin::destroy,
		call_missing,
		nullptr,
		nullptr,
		nullptr, // call_with_error
		nullptr, // describe
	};
	return &descriptor;
}

} // extern "C"
