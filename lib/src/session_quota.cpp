// SPDX-License-Identifier: Apache-2.0
// Session admission limits: total, per uid, and reserved slots.
#include "session_quota.hpp"

#include <algorithm>

namespace drpc::detail {

std::optional<std::string> SessionQuota::admit(uid_t uid)
{
	const std::lock_guard lock(mutex_);
	const bool privileged = uid == 0 || uid == limits_.owner_uid;
	if (open_ >= limits_.max_sessions)
		return std::to_string(open_) + " sessions are open (limits.max_sessions " +
		       std::to_string(limits_.max_sessions) + "); raise limits.max_sessions";
	// At most half of a small limit is kept back, so others always get some.
	const size_t reserved = std::min(limits_.reserved_sessions, limits_.max_sessions / 2);
	if (!privileged && open_ >= limits_.max_sessions - reserved)
		return std::to_string(open_) + " sessions are open and the last " + std::to_string(reserved) +
		       " of limits.max_sessions " + std::to_string(limits_.max_sessions) +
		       " are kept for root and the server's uid (limits.reserved_sessions); raise limits.max_sessions";
	size_t &mine = by_uid_[uid];
	if (!privileged && limits_.max_sessions_per_uid != 0 && mine >= limits_.max_sessions_per_uid) {
		if (mine == 0)
			by_uid_.erase(uid);
		return "uid " + std::to_string(uid) + " has " + std::to_string(mine) +
		       " sessions open (limits.max_sessions_per_uid " + std::to_string(limits_.max_sessions_per_uid) +
		       "); raise limits.max_sessions_per_uid";
	}
	++mine;
	++open_;
	return std::nullopt;
}

void SessionQuota::leave(uid_t uid) noexcept
{
	const std::lock_guard lock(mutex_);
	if (open_ > 0)
		--open_;
	const auto found = by_uid_.find(uid);
	if (found != by_uid_.end() && --found->second == 0)
		by_uid_.erase(found);
}

size_t SessionQuota::open() const noexcept
{
	const std::lock_guard lock(mutex_);
	return open_;
}

} // namespace drpc::detail
