// SPDX-License-Identifier: Apache-2.0
/// @file session_quota.hpp
/// Who may open one more session: the total limit, a per-uid limit, and a
/// few slots only root and the server's own uid may take, so that a flood
/// from one uid never locks the owner out.
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <sys/types.h>
#include <unordered_map>

namespace drpc::detail {

struct SessionLimits {
	size_t max_sessions = 0;
	size_t max_sessions_per_uid = 0; ///< zero: no per-uid limit
	size_t reserved_sessions = 0;    ///< of max_sessions (at most half), for root and `owner_uid`
	uid_t owner_uid = 0;
};

class SessionQuota {
public:
	explicit SessionQuota(SessionLimits limits) noexcept : limits_(limits) {}

	/// Counts a session for `uid`, or says which limit refuses it and what
	/// to change (nothing counted). Throws std::bad_alloc.
	[[nodiscard]] std::optional<std::string> admit(uid_t uid);
	/// Uncounts a session admitted for `uid`.
	void leave(uid_t uid) noexcept;

	[[nodiscard]] size_t open() const noexcept;

private:
	const SessionLimits limits_;
	mutable std::mutex mutex_;
	size_t open_ = 0;
	std::unordered_map<uid_t, size_t> by_uid_;
};

} // namespace drpc::detail
