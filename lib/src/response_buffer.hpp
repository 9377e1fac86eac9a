// SPDX-License-Identifier: Apache-2.0
/// @file response_buffer.hpp
/// A session's reusable response memory. The handler writes its body after a
/// reserved headroom, and the Response fields are then written into the
/// headroom just before it, so a response is sent without copying its body.
#pragma once

#include <drpc/codec.hpp>
#include <drpc/module.hpp>

#include <cstdint>
#include <memory>
#include <new>
#include <span>

namespace drpc::detail {

class ResponseBuffer final : public ResponseBody {
public:
	explicit ResponseBuffer(size_t max_body_bytes) noexcept : max_body_bytes_(max_body_bytes) {}

	std::span<uint8_t> reserve(size_t size) noexcept override
	{
		if (size > max_body_bytes_)
			return {};
		if (headroom + size > capacity_) {
			// Uninitialised: the handler overwrites every byte it asked for.
			std::unique_ptr<uint8_t[]> bigger(new (std::nothrow) uint8_t[headroom + size]);
			if (!bigger)
				return {};
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
		if (capacity_ > retained_bytes) {
			storage_.reset();
			capacity_ = 0;
		}
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

	const size_t max_body_bytes_;
	std::unique_ptr<uint8_t[]> storage_;
	size_t capacity_ = 0;
	size_t size_ = 0;
};

} // namespace drpc::detail
