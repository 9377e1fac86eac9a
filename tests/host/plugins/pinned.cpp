// SPDX-License-Identifier: Apache-2.0
// A hand-written test plugin that pins itself in memory (RTLD_NODELETE) when
// created, so that the host's "still mapped after unloading" check has
// something to find.
#include "raw_plugin.hpp"

#include <dlfcn.h>

namespace {

void *create_pinned(const char *config, uint64_t length, drpc_error *error)
{
	Dl_info self{};
	if (::dladdr(reinterpret_cast<void *>(&create_pinned), &self) != 0 && self.dli_fname != nullptr)
		(void)::dlopen(self.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
	return raw_plugin::create(config, length, error);
}

} // namespace

extern "C" {

[[gnu::section(DRPC_PLUGIN_INFO_SECTION), gnu::used]] const drpc_plugin_info drpc_plugin_info_record = {
	DRPC_PLUGIN_INFO_MAGIC, DRPC_PLUGIN_ABI_VERSION, 4700, "pinned", "1.0.0",
};

[[gnu::visibility("default")]] const drpc_plugin *drpc_plugin_entry(void)
{
	static const drpc_plugin descriptor = {
		DRPC_PLUGIN_ABI_VERSION,
		sizeof(drpc_plugin),
		&drpc_plugin_info_record,
		create_pinned,
		raw_plugin::destroy,
		raw_plugin::call,
		nullptr,
		nullptr,
		nullptr, // call_with_error
		nullptr, // describe
	};
	return &descriptor;
}

} // extern "C"
