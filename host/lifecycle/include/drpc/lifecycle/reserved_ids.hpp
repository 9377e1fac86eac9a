// SPDX-License-Identifier: Apache-2.0
/// @file reserved_ids.hpp
/// The module IDs the host keeps for its own built-in modules; no plugin may claim them.
#pragma once

#include <cstdint>

namespace drpc::host {

/// First and last module ID of the reserved range (both included). Plugins
/// claiming an ID in it are refused before their library is mapped.
inline constexpr int32_t reserved_id_first = 0x7FFF0000;
inline constexpr int32_t reserved_id_last = 0x7FFFFFFF;

/// The host's administration module (a later addition) answers here.
inline constexpr int32_t admin_module_id = 0x7FFF0000;

[[nodiscard]] constexpr bool is_reserved_id(int32_t id) noexcept
{
	return id >= reserved_id_first && id <= reserved_id_last;
}

static_assert(is_reserved_id(admin_module_id));

} // namespace drpc::host
