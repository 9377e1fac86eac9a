// SPDX-License-Identifier: Apache-2.0
// The C ABI structs keep their layout: changing one is an ABI version bump.
#include <drpc/plugin.h> // first: the header compiles with nothing before it

#include <cstddef>
#include <doctest/doctest.h>

static_assert(sizeof(drpc_plugin_info) == 112);
static_assert(offsetof(drpc_plugin_info, abi_version) == 8);
static_assert(offsetof(drpc_plugin_info, module_id) == 12);
static_assert(offsetof(drpc_plugin_info, name) == 16);
static_assert(offsetof(drpc_plugin_info, version) == 80);
static_assert(sizeof(drpc_call_info) == 32);
static_assert(offsetof(drpc_call_info, sequence) == 24);
static_assert(sizeof(drpc_output) == 24);
static_assert(offsetof(drpc_output, reserve) == 16);
static_assert(sizeof(drpc_plugin) == 72);
static_assert(DRPC_PLUGIN_SIZE_V1 == 56); // the frozen ABI-1 size: never changes
static_assert(offsetof(drpc_plugin, call_with_error) == 56);
static_assert(DRPC_PLUGIN_SIZE_V2 == 64); // version 2's size: never changes
static_assert(offsetof(drpc_plugin, describe) == 64);
static_assert(sizeof(drpc_method_description) == 32);
static_assert(offsetof(drpc_method_description, name) == 8);
static_assert(offsetof(drpc_method_description, response_type) == 24);
static_assert(sizeof(drpc_plugin_description) == 32);
static_assert(offsetof(drpc_plugin_description, methods) == 8);
static_assert(offsetof(drpc_plugin_description, descriptor_set_len) == 24);
static_assert(offsetof(drpc_plugin, create) == 16);
static_assert(offsetof(drpc_plugin, import_state) == 48);
static_assert(sizeof(drpc_error) == DRPC_ERROR_MESSAGE_MAX);

TEST_CASE("plugin ABI constants match the wire's status values")
{
	CHECK(DRPC_PLUGIN_ABI_VERSION == 1u);
	CHECK(DRPC_STATUS_SUCCESS == 0);
	CHECK(DRPC_STATUS_UNKNOWN_MODULE == 3);
	CHECK(DRPC_STATUS_FAILED_MARSHAL == 7);
	CHECK(sizeof(DRPC_PLUGIN_INFO_MAGIC) == sizeof(drpc_plugin_info{}.magic));
}
