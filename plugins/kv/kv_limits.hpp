// SPDX-License-Identifier: Apache-2.0
/// @file kv_limits.hpp
/// The kv plugin's limits and the strict reader of its per-module config.
#pragma once

#include <cstddef>
#include <string_view>

namespace kv_plugin {

/// What the store accepts; every limit is configurable under the same key in
/// the module's config object.
struct Limits {
	size_t max_keys = 10000;
	size_t max_key_bytes = 256;
	size_t max_value_bytes = size_t{1} << 20;
	/// Most keys one LIST answers, whatever limit the request asks for.
	size_t max_list_keys = 1000;
};

/// Reads the module's config object (JSON text; `{}` keeps every default).
/// Throws std::invalid_argument naming the key for an unknown key or a value
/// that is not a positive integer, or saying that the text is not an object.
[[nodiscard]] Limits parse_limits(std::string_view config_json);

} // namespace kv_plugin
