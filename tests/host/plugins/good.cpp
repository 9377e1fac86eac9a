// SPDX-License-Identifier: Apache-2.0
// A well-behaved test plugin (module 4242): echoes, reports its config,
// throws on request and hands its state over across a reload.
#include <drpc/plugin.hpp>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>

namespace {

using drpc::plugin::CallContext;
using drpc::plugin::Output;
using drpc::plugin::Status;

class Good : public drpc::plugin::Module, public drpc::plugin::StateHandoff {
public:
	explicit Good(const drpc::plugin::Config &config) : config_(config.json) {}

	Status call(const CallContext &context, std::span<const uint8_t> body, Output &out) override
	{
		calls_.fetch_add(1);
		switch (context.method) {
		case 0: // echo
			return out.write(body) ? Status::success : Status::failed_marshal;
		case 1: // the config text create() received
			return out.write(config_) ? Status::success : Status::failed_marshal;
		case 2:
			throw std::runtime_error("method 2 always throws");
		case 3: { // the state imported from the previous generation
			const std::lock_guard lock(mutex_);
			return out.write(imported_) ? Status::success : Status::failed_marshal;
		}
		case 4: // an empty answer
			return Status::success;
		case 5: // a status outside drpc.Status
			return static_cast<Status>(99);
		case 6: // a status and a reason, through drpc::plugin::Error
			throw drpc::plugin::Error(Status::failed_unmarshal_payload, "bad input\non two lines");
		default:
			return Status::unknown_method;
		}
	}

	void export_state(Output &out) override
	{
		if (!out.write("calls=" + std::to_string(calls_.load())))
			throw std::runtime_error("state too large");
	}

	void import_state(std::span<const uint8_t> state) override
	{
		const std::lock_guard lock(mutex_);
		imported_.assign(reinterpret_cast<const char *>(state.data()), state.size());
	}

private:
	const std::string config_;
	std::atomic<uint64_t> calls_{0};
	std::mutex mutex_;
	std::string imported_;
};

} // namespace

DRPC_PLUGIN(Good, 4242, "good", "1.2.3")
