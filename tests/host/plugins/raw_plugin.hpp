// SPDX-License-Identifier: Apache-2.0
/// @file raw_plugin.hpp
/// Pieces of hand-written (plugin.h only) test plugins: a trivial instance
/// and a static constructor that leaves a mark in the host's environment, so
/// a test can tell whether the plugin's code ever ran.
#pragma once

#include <drpc/plugin.h>

#include <cstdlib>

namespace raw_plugin {

inline void *create(const char *, uint64_t, drpc_error *)
{
	static int instance;
	return &instance;
}
inline void destroy(void *) {}
inline int32_t call(void *, const drpc_call_info *, const uint8_t *, uint64_t, drpc_output *)
{
	return DRPC_STATUS_SUCCESS;
}

/// A descriptor of the functions above for `info`, speaking `abi_version`.
constexpr drpc_plugin descriptor(const drpc_plugin_info *info, uint32_t abi_version = DRPC_PLUGIN_ABI_VERSION)
{
	return {
		abi_version, sizeof(drpc_plugin), info, create, destroy, call, nullptr, nullptr,
		nullptr, // call_with_error
		nullptr, // describe
	};
}

} // namespace raw_plugin

/// Sets DRPC_TEST_RAN_<tag>=1 when the library's constructors run.
#define RAW_PLUGIN_MARK_CONSTRUCTOR(tag)                                                                               \
	[[gnu::constructor]] static void mark_constructor_ran() { ::setenv("DRPC_TEST_RAN_" #tag, "1", 1); }
