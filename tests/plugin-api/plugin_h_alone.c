/* SPDX-License-Identifier: Apache-2.0 */
/* drpc/plugin.h compiles on its own as strict C99: the ABI is plain C. */
#include <drpc/plugin.h>

_Static_assert(sizeof(struct drpc_plugin_info) == 112, "struct drpc_plugin_info layout");
_Static_assert(sizeof(struct drpc_plugin) == 72, "struct drpc_plugin layout");
_Static_assert(DRPC_PLUGIN_SIZE_V2 == 64, "version 2 of struct drpc_plugin");
_Static_assert(sizeof(struct drpc_plugin_description) == 32, "struct drpc_plugin_description layout");
_Static_assert(DRPC_PLUGIN_SIZE_V1 == 56, "version 1 of struct drpc_plugin");

int main(void) { return 0; }
