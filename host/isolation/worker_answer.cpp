// SPDX-License-Identifier: Apache-2.0
// A worker's answer, in the slot or in the message.
#include "worker_answer.hpp"

#include "relay_header.hpp"
#include "shared_region.hpp"

#include <cstring>

namespace drpc::host::isolation {

std::span<uint8_t> WorkerAnswer::reserve(size_t size) noexcept
{
	size_ = size;
	in_slot_ = size >= SharedRegion::min_body_bytes && size <= answer_area_.size();
	if (in_slot_)
		return answer_area_.first(size);
	if (size > SIZE_MAX - sizeof(AnswerHeader))
		return {};
	const std::span<uint8_t> message = out_.reserve(sizeof(AnswerHeader) + size);
	if (message.empty())
		return {};
	const auto header = encode_answer_header({.magic = answer_inline_magic});
	std::memcpy(message.data(), header.data(), header.size());
	return message.subspan(sizeof(AnswerHeader));
}

bool WorkerAnswer::finish() noexcept
{
	if (!in_slot_)
		return true;
	const auto header =
		encode_answer_header({.magic = answer_in_slot_magic, .bytes_in_slot = static_cast<uint32_t>(size_)});
	// The message holds only the header now: an earlier inline reserve is replaced.
	return out_.assign(std::string_view(reinterpret_cast<const char *>(header.data()), header.size()));
}

} // namespace drpc::host::isolation
