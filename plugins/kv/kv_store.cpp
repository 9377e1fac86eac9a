// SPDX-License-Identifier: Apache-2.0
// The kv plugin's thread-safe map: readers share the lock, writers take it alone.

#include "kv_store.hpp"

#include <drpc/plugin.hpp>

#include <algorithm>
#include <mutex>
#include <stdexcept>

namespace kv_plugin {

namespace {

[[noreturn]] void fail(const std::string &why)
{
	throw drpc::plugin::Error(drpc::plugin::Status::failure, "kv: " + why);
}

} // namespace

std::optional<std::string> Store::check_key(std::string_view key) const
{
	// An empty key could never be listed: LIST starts after "" by default.
	if (key.empty())
		return "empty key";
	if (key.size() > limits_.max_key_bytes)
		return "key of " + std::to_string(key.size()) + " bytes is over max_key_bytes (" +
		       std::to_string(limits_.max_key_bytes) + ")";
	return std::nullopt;
}

std::optional<std::string> Store::check_value(std::string_view value) const
{
	if (value.size() > limits_.max_value_bytes)
		return "value of " + std::to_string(value.size()) + " bytes is over max_value_bytes (" +
		       std::to_string(limits_.max_value_bytes) + ")";
	return std::nullopt;
}

bool Store::put(const std::string &key, const std::string &value)
{
	if (auto why = check_key(key))
		fail(*why);
	if (auto why = check_value(value))
		fail(*why);

	std::unique_lock lock(mutex_);
	auto it = entries_.find(key);
	if (it != entries_.end()) {
		it->second = value;
		return true;
	}
	if (entries_.size() >= limits_.max_keys)
		fail("store is full: max_keys (" + std::to_string(limits_.max_keys) + ") reached");
	entries_.emplace(key, value);
	return false;
}

std::optional<std::string> Store::get(std::string_view key) const
{
	if (auto why = check_key(key))
		fail(*why);
	std::shared_lock lock(mutex_);
	auto it = entries_.find(key);
	if (it == entries_.end())
		return std::nullopt;
	return it->second;
}

bool Store::erase(std::string_view key)
{
	if (auto why = check_key(key))
		fail(*why);
	std::unique_lock lock(mutex_);
	auto it = entries_.find(key);
	if (it == entries_.end())
		return false;
	entries_.erase(it);
	return true;
}

Store::Page Store::list(std::string_view after, size_t limit) const
{
	const size_t count = limit == 0 ? limits_.max_list_keys : std::min(limit, limits_.max_list_keys);
	Page page;
	std::shared_lock lock(mutex_);
	auto it = entries_.upper_bound(after);
	for (; it != entries_.end() && page.keys.size() < count; ++it)
		page.keys.push_back(it->first);
	page.truncated = it != entries_.end();
	return page;
}

kv::Snapshot Store::snapshot() const
{
	kv::Snapshot snapshot;
	std::shared_lock lock(mutex_);
	snapshot.mutable_entries()->Reserve(static_cast<int>(entries_.size()));
	for (const auto &[key, value] : entries_) {
		kv::Entry *entry = snapshot.add_entries();
		entry->set_key(key);
		entry->set_value(value);
	}
	return snapshot;
}

void Store::restore(const kv::Snapshot &snapshot)
{
	const auto count = static_cast<size_t>(snapshot.entries_size());
	if (count > limits_.max_keys)
		throw std::invalid_argument("kv state: " + std::to_string(count) + " entries is over max_keys (" +
		                            std::to_string(limits_.max_keys) + ")");
	std::map<std::string, std::string, std::less<>> entries;
	for (size_t i = 0; i < count; ++i) {
		const kv::Entry &entry = snapshot.entries(static_cast<int>(i));
		std::optional<std::string> why = check_key(entry.key());
		if (!why)
			why = check_value(entry.value());
		if (!why && !entries.emplace(entry.key(), entry.value()).second)
			why = "key '" + entry.key() + "' appears twice";
		if (why)
			throw std::invalid_argument("kv state: entry " + std::to_string(i) + ": " + *why);
	}
	std::unique_lock lock(mutex_);
	entries_.swap(entries);
}

} // namespace kv_plugin
