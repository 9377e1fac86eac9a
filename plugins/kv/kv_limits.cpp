// SPDX-License-Identifier: Apache-2.0
// Reads the kv plugin's config: a JSON object of positive integer limits.

#include "kv_limits.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

namespace kv_plugin {

namespace {

using LimitField = size_t Limits::*;

constexpr std::array<std::pair<std::string_view, LimitField>, 4> limit_keys{{
	{"max_keys", &Limits::max_keys},
	{"max_key_bytes", &Limits::max_key_bytes},
	{"max_value_bytes", &Limits::max_value_bytes},
	{"max_list_keys", &Limits::max_list_keys},
}};

size_t positive_size(const std::string &key, const nlohmann::json &value)
{
	// A zero limit would make the store unusable, so it is a typo rather than a choice.
	if (!value.is_number_unsigned() || value.get<uint64_t>() == 0 ||
	    value.get<uint64_t>() > std::numeric_limits<size_t>::max())
		throw std::invalid_argument("kv config: " + key + ": expected a positive integer, got " + value.dump());
	return value.get<size_t>();
}

} // namespace

Limits parse_limits(std::string_view config_json)
{
	nlohmann::json config;
	try {
		config = nlohmann::json::parse(config_json);
	} catch (const nlohmann::json::parse_error &e) {
		throw std::invalid_argument(std::string("kv config: not valid JSON: ") + e.what());
	}
	if (!config.is_object())
		throw std::invalid_argument("kv config: expected a JSON object, got " +
		                            std::string(config.type_name()));

	Limits limits;
	for (const auto &[key, value] : config.items()) {
		bool known = false;
		for (const auto &[name, field] : limit_keys) {
			if (key == name) {
				limits.*field = positive_size(key, value);
				known = true;
			}
		}
		if (!known)
			throw std::invalid_argument(
				"kv config: unknown key '" + key +
				"' (known: max_keys, max_key_bytes, max_value_bytes, max_list_keys)");
	}
	return limits;
}

} // namespace kv_plugin
