// SPDX-License-Identifier: Apache-2.0
/// @file inflight_budget.hpp
/// The server-wide budget for bytes held by messages in flight (calls being
/// reassembled, answers being built and sent), with a per-uid share so that
/// one uid cannot take it all.
#pragma once

#include <drpc/framing.hpp>

#include <cstddef>
#include <mutex>
#include <string>
#include <sys/types.h>
#include <unordered_map>

namespace drpc::detail {

class InflightBudget {
public:
	/// Zero for either limit means none.
	InflightBudget(size_t max_bytes, size_t max_bytes_per_uid) noexcept;

	/// Takes `bytes` for `uid`; false (nothing taken) when either limit
	/// would be passed.
	bool acquire(uid_t uid, size_t bytes) noexcept;
	void release(uid_t uid, size_t bytes) noexcept;

	[[nodiscard]] size_t in_use() const noexcept;
	[[nodiscard]] size_t peak() const noexcept;
	[[nodiscard]] size_t max_bytes() const noexcept { return max_bytes_; }
	[[nodiscard]] size_t max_bytes_per_uid() const noexcept { return max_bytes_per_uid_; }
	/// Bytes `uid` holds now.
	[[nodiscard]] size_t in_use_by(uid_t uid) const noexcept;

private:
	const size_t max_bytes_;
	const size_t max_bytes_per_uid_;
	mutable std::mutex mutex_;
	size_t in_use_ = 0;
	size_t peak_ = 0;
	std::unordered_map<uid_t, size_t> by_uid_;
};

/// One session's account on the budget: what its reader and its answers
/// hold, charged to the session's uid. Remembers why it last refused, for
/// the session's log line.
class SessionBudget final : public framing::BufferBudget {
public:
	SessionBudget(InflightBudget &budget, uid_t uid) noexcept : budget_(budget), uid_(uid) {}
	~SessionBudget() override;
	SessionBudget(const SessionBudget &) = delete;
	SessionBudget &operator=(const SessionBudget &) = delete;

	bool acquire(size_t bytes) noexcept override;
	void release(size_t bytes) noexcept override;

	/// True once a request was refused (until clear_refusal()).
	[[nodiscard]] bool refused() const noexcept { return refused_bytes_ > 0; }
	void clear_refusal() noexcept { refused_bytes_ = 0; }
	/// Which limit refused, how much was asked and held, and what to change.
	[[nodiscard]] std::string refusal() const;

private:
	InflightBudget &budget_;
	const uid_t uid_;
	size_t held_ = 0;
	size_t refused_bytes_ = 0;
};

} // namespace drpc::detail
