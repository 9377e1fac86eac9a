// SPDX-License-Identifier: Apache-2.0
// Out-of-line helpers of the Module interface.
#include <drpc/deferred_answer.hpp>
#include <drpc/module.hpp>

#include <cstring>

namespace drpc {

bool ResponseBody::assign(std::string_view bytes) noexcept
{
	std::span<uint8_t> buffer = reserve(bytes.size());
	if (buffer.size() != bytes.size())
		return false;
	if (!bytes.empty())
		std::memcpy(buffer.data(), bytes.data(), bytes.size());
	return true;
}

void Module::start_call(const CallContext &context, std::span<const uint8_t> body, DeferredAnswer &answer)
{
	answer.answer(handle_call(context, body, answer.body()));
}

} // namespace drpc
