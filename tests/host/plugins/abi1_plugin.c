/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A plugin built against the frozen ABI-1 header (tests/plugin-api/abi1),
 * in plain C, as one written before struct drpc_plugin grew: module 4711,
 * method 0 echoes, any other method answers UNKNOWN_METHOD.
 */
#include <drpc/plugin.h>

#include <string.h>

__attribute__((section(DRPC_PLUGIN_INFO_SECTION), used)) const struct drpc_plugin_info drpc_plugin_info_record = {
	.magic = DRPC_PLUGIN_INFO_MAGIC,
	.abi_version = DRPC_PLUGIN_ABI_VERSION,
	.module_id = 4711,
	.name = "abi1",
	.version = "1.0.0",
};

static void *create(const char *config_json, uint64_t config_len, struct drpc_error *error)
{
	static int instance;
	(void)config_json;
	(void)config_len;
	(void)error;
	return &instance;
}

static void destroy(void *instance) { (void)instance; }

static int32_t call(void *instance, const struct drpc_call_info *info, const uint8_t *body, uint64_t body_len,
                    struct drpc_output *out)
{
	(void)instance;
	if (info->method != 0)
		return DRPC_STATUS_UNKNOWN_METHOD;
	uint8_t *answer = out->reserve(out->host_data, body_len);
	if (answer == NULL)
		return DRPC_STATUS_FAILED_MARSHAL;
	if (body_len != 0)
		memcpy(answer, body, body_len);
	return DRPC_STATUS_SUCCESS;
}

static const struct drpc_plugin descriptor = {
	.abi_version = DRPC_PLUGIN_ABI_VERSION,
	.struct_size = sizeof(struct drpc_plugin), /* 56: the ABI-1 size */
	.info = &drpc_plugin_info_record,
	.create = create,
	.destroy = destroy,
	.call = call,
};

__attribute__((visibility("default"))) const struct drpc_plugin *drpc_plugin_entry(void) { return &descriptor; }
