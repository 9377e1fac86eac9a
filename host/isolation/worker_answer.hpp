// SPDX-License-Identifier: Apache-2.0
/// @file worker_answer.hpp
/// Inside a worker: where the plugin writes its answer. A large answer to a
/// call that came with a slot goes straight into the slot's answer area;
/// any other goes after an AnswerHeader in the socket's message
/// (relay_header.hpp), written in place too.
#pragma once

#include <drpc/module.hpp>

#include <span>

namespace drpc::host::isolation {

class WorkerAnswer final : public drpc::ResponseBody {
public:
	/// `answer_area` is empty when the call has no slot.
	WorkerAnswer(drpc::ResponseBody &out, std::span<uint8_t> answer_area) noexcept
		: out_(out), answer_area_(answer_area)
	{
	}

	[[nodiscard]] std::span<uint8_t> reserve(size_t size) noexcept override;
	/// Once the plugin has answered SUCCESS: puts the in-slot header in the
	/// message when the answer is in the slot. False when that fails.
	[[nodiscard]] bool finish() noexcept;

private:
	drpc::ResponseBody &out_;
	const std::span<uint8_t> answer_area_;
	bool in_slot_ = false;
	size_t size_ = 0;
};

} // namespace drpc::host::isolation
