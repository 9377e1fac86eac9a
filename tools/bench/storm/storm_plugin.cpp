// SPDX-License-Identifier: Apache-2.0
// A plugin built twice, as storm_a.so and storm_b.so: one module (ID 4300,
// "storm") whose two builds answer differently, for reload storms. Method 0
// answers the build's letter followed by the body; method 1 sleeps for the
// number of milliseconds in its body (a call that is in flight for a while);
// the call count is handed over across reloads.
#include <drpc/plugin.hpp>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstring>
#include <thread>

#ifndef STORM_BUILD
#error "build with -DSTORM_BUILD='\"A\"' or '\"B\"'"
#endif

namespace {

using drpc::plugin::Status;

class StormModule : public drpc::plugin::Module, public drpc::plugin::StateHandoff {
public:
	Status call(const drpc::plugin::CallContext &context, std::span<const uint8_t> body,
	            drpc::plugin::Output &out) override
	{
		calls_.fetch_add(1, std::memory_order_relaxed);
		if (context.method == 1) {
			unsigned milliseconds = 0;
			const auto *text = reinterpret_cast<const char *>(body.data());
			std::from_chars(text, text + body.size(), milliseconds);
			std::this_thread::sleep_for(std::chrono::milliseconds(milliseconds));
		} else if (context.method != 0) {
			return Status::unknown_method;
		}
		std::span<uint8_t> answer = out.reserve(1 + body.size());
		if (answer.empty())
			return Status::failed_marshal;
		answer[0] = static_cast<uint8_t>(STORM_BUILD[0]);
		if (!body.empty())
			std::memcpy(answer.data() + 1, body.data(), body.size());
		return Status::success;
	}

	void export_state(drpc::plugin::Output &out) override
	{
		const uint64_t calls = calls_.load();
		std::span<uint8_t> state = out.reserve(sizeof(calls));
		if (state.empty())
			throw std::runtime_error("no room for the state");
		std::memcpy(state.data(), &calls, sizeof(calls));
	}

	void import_state(std::span<const uint8_t> state) override
	{
		uint64_t calls = 0;
		if (state.size() != sizeof(calls))
			throw std::runtime_error("storm state is " + std::to_string(state.size()) +
			                         " bytes, expected 8");
		std::memcpy(&calls, state.data(), sizeof(calls));
		calls_.store(calls);
	}

private:
	std::atomic<uint64_t> calls_{0};
};

} // namespace

DRPC_PLUGIN(StormModule, 4300, "storm", "1.0." STORM_BUILD)
