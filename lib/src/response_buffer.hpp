// SPDX-License-Identifier: Apache-2.0
/// @file response_buffer.hpp
/// A session's reusable response memory. The handler writes its body after a
/// reserved headroom, and the Response fields are then written into the
/// headroom just before it, so a response is sent without copying its body.
#pragma once

#include <drpc/codec.hpp>
#include <drpc/framing.hpp>
#include <drpc/module.hpp>

#include <cstdint>
#include <memory>
#include <new>
#include <span>

namespace drpc::detail {

class ResponseBuffer final : public ResponseBody {
public:
	/// Growth beyond the first small buffer is asked of `budget` (if any).
	explicit ResponseBuffer(size_t max_body_bytes, framing::BufferBudget *budget = nullptr) noexcept
		: max_body_bytes_(max_body_bytes), budget_(budget)
	{
	}
	~ResponseBuffer() override { release_memory(); }
	ResponseBuffer(const ResponseBuffer &) = delete;
	ResponseBuffer &operator=(const ResponseBuffer &) = delete;

	std::span<uint8_t> reserve(size_t size) noexcept override
	{
		if (size > max_body_bytes_)
			return {};
		if (headroom + size > capacity_) {
			const size_t more = charged(headroom + size) - charged(capacity_);
			if (budget_ != nullptr && !budget_->acquire(more))
				return {};
			// Uninitialised: the handler overwrites every byte it asked for.
			std::unique_ptr<uint8_t[]> bigger(new (std::nothrow) uint8_t[headroom + size]);
			if (!bigger) {
				if (budget_ != nullptr)
					budget_->release(more);
				return {};
			}
			storage_ = std::move(bigger);
			capacity_ = headroom + size;
		}
		size_ = size;
		return {storage_.get() + headroom, size};
	}

	/// Forgets the last body; frees memory held for an unusually big one.
	void clear() noexcept
	{
		size_ = 0;
		if (capacity_ > retained_bytes)
			release_memory();
	}

	/// Frees the buffer (an idle, parked session holds none).
	void release_memory() noexcept
	{
		storage_.reset();
		if (budget_ != nullptr && charged(capacity_) > 0)
			budget_->release(charged(capacity_));
		capacity_ = 0;
		size_ = 0;
	}

	/// Encodes a Response with this body (or none) in place; returns the bytes.
	std::span<const uint8_t> encode(int64_t sequence, Status status, bool with_body)
	{
		if (!storage_)
			(void)reserve(0);
		const size_t body_size = with_body ? size_ : 0;
		uint8_t *body = storage_.get() + headroom;
		const size_t prefix = codec::encode_response_before(body, sequence, status, body_size);
		return {body - prefix, prefix + body_size};
	}

private:
	static constexpr size_t headroom = codec::max_response_overhead;
	static constexpr size_t retained_bytes = size_t{4} << 20;
	/// A small answer's buffer is part of a session's fixed cost (bounded by
	/// the session limits) and is never refused, so that every call can be
	/// answered, if only with a status.
	static constexpr size_t uncharged_bytes = 4096;
	static constexpr size_t charged(size_t capacity) noexcept
	{
		return capacity > uncharged_bytes ? capacity - uncharged_bytes : 0;
	}

	const size_t max_body_bytes_;
	framing::BufferBudget *budget_;
	std::unique_ptr<uint8_t[]> storage_;
	size_t capacity_ = 0;
	size_t size_ = 0;
};

} // namespace drpc::detail
