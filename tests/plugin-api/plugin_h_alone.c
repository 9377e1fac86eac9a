/* SPDX-License-Identifier: Apache-2.0 */
/* drpc/plugin.h compiles on its own as strict C99: the ABI is plain C. */
#include <drpc/plugin.h>

_Static_assert(sizeof(struct drpc_plugin_info) == 112, "struct drpc_plugin_info layout");
_Static_assert(sizeof(struct drpc_plugin) == 56, "struct drpc_plugin layout");

int main(void) { return 0; }
