// SPDX-License-Identifier: Apache-2.0
/// @file kv_store.hpp
/// The kv plugin's data: a sorted in-memory map, safe to use from many
/// threads, that never holds more than its Limits allow.
#pragma once

#include "kv.pb.h"
#include "kv_limits.hpp"

#include <map>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace kv_plugin {

class Store {
public:
	explicit Store(Limits limits) : limits_(limits) {}

	[[nodiscard]] const Limits &limits() const noexcept { return limits_; }

	/// Stores `value` under `key`; true when it replaced a value. Throws
	/// drpc::plugin::Error (FAILURE) naming the limit an entry is over.
	bool put(const std::string &key, const std::string &value);
	/// Throws drpc::plugin::Error (FAILURE) for a key over max_key_bytes.
	[[nodiscard]] std::optional<std::string> get(std::string_view key) const;
	/// True when the key was there. Throws as get().
	bool erase(std::string_view key);

	struct Page {
		std::vector<std::string> keys;
		bool truncated = false; ///< more keys follow the last one
	};
	/// Up to `limit` keys (0 or more than max_list_keys: max_list_keys) that
	/// sort after `after`, in order.
	[[nodiscard]] Page list(std::string_view after, size_t limit) const;

	/// A copy of every entry, for a reload's state handoff.
	[[nodiscard]] kv::Snapshot snapshot() const;
	/// Replaces everything with `snapshot` once all of it is checked against
	/// the limits; throws std::invalid_argument naming the bad entry and
	/// leaves the store as it was.
	void restore(const kv::Snapshot &snapshot);

private:
	/// Why an entry may not be stored, or nothing when it may.
	[[nodiscard]] std::optional<std::string> check_key(std::string_view key) const;
	[[nodiscard]] std::optional<std::string> check_value(std::string_view value) const;

	const Limits limits_;
	mutable std::shared_mutex mutex_;
	std::map<std::string, std::string, std::less<>> entries_;
};

} // namespace kv_plugin
