// SPDX-License-Identifier: Apache-2.0
// The server-wide in-flight byte budget and each session's account on it.
#include "inflight_budget.hpp"

#include <algorithm>

namespace drpc::detail {

InflightBudget::InflightBudget(size_t max_bytes, size_t max_bytes_per_uid) noexcept
	: max_bytes_(max_bytes), max_bytes_per_uid_(max_bytes_per_uid)
{
}

bool InflightBudget::acquire(uid_t uid, size_t bytes) noexcept
{
	const std::lock_guard lock(mutex_);
	if (max_bytes_ != 0 && bytes > max_bytes_ - std::min(in_use_, max_bytes_))
		return false;
	try {
		size_t &mine = by_uid_[uid];
		if (max_bytes_per_uid_ != 0 && bytes > max_bytes_per_uid_ - std::min(mine, max_bytes_per_uid_)) {
			if (mine == 0)
				by_uid_.erase(uid);
			return false;
		}
		mine += bytes;
	} catch (...) {
		return false; // the map could not grow: refuse rather than overrun
	}
	in_use_ += bytes;
	peak_ = std::max(peak_, in_use_);
	return true;
}

void InflightBudget::release(uid_t uid, size_t bytes) noexcept
{
	const std::lock_guard lock(mutex_);
	in_use_ -= std::min(bytes, in_use_);
	const auto found = by_uid_.find(uid);
	if (found == by_uid_.end())
		return;
	found->second -= std::min(bytes, found->second);
	if (found->second == 0)
		by_uid_.erase(found);
}

size_t InflightBudget::in_use() const noexcept
{
	const std::lock_guard lock(mutex_);
	return in_use_;
}

size_t InflightBudget::peak() const noexcept
{
	const std::lock_guard lock(mutex_);
	return peak_;
}

size_t InflightBudget::in_use_by(uid_t uid) const noexcept
{
	const std::lock_guard lock(mutex_);
	const auto found = by_uid_.find(uid);
	return found == by_uid_.end() ? 0 : found->second;
}

SessionBudget::~SessionBudget()
{
	if (held_ > 0)
		budget_.release(uid_, held_);
}

bool SessionBudget::acquire(size_t bytes) noexcept
{
	if (!budget_.acquire(uid_, bytes)) {
		refused_bytes_ = bytes;
		return false;
	}
	held_ += bytes;
	return true;
}

void SessionBudget::release(size_t bytes) noexcept
{
	bytes = std::min(bytes, held_);
	held_ -= bytes;
	budget_.release(uid_, bytes);
}

std::string SessionBudget::refusal() const
{
	const size_t total = budget_.in_use();
	const size_t mine = budget_.in_use_by(uid_);
	const bool uid_share =
		budget_.max_bytes_per_uid() != 0 &&
		refused_bytes_ > budget_.max_bytes_per_uid() - std::min(mine, budget_.max_bytes_per_uid());
	if (uid_share)
		return "over limits.max_inflight_bytes_per_uid (" + std::to_string(budget_.max_bytes_per_uid()) +
		       "): uid " + std::to_string(uid_) + " holds " + std::to_string(mine) + " bytes and asked for " +
		       std::to_string(refused_bytes_) + " more; raise limits.max_inflight_bytes_per_uid";
	return "over limits.max_inflight_bytes (" + std::to_string(budget_.max_bytes()) +
	       "): " + std::to_string(total) + " bytes are in flight and " + std::to_string(refused_bytes_) +
	       " more were asked; raise limits.max_inflight_bytes";
}

} // namespace drpc::detail
