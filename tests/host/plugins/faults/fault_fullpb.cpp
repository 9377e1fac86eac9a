// SPDX-License-Identifier: Apache-2.0
// Fault plugin (module 4907): linked to the full protobuf runtime, which the host refuses
// in-process; method 1 counts calls and answers a drpc.fault.Counted, and the count is
// handed over across reloads (export_state/import_state), so an isolated reload can be
// seen to keep state.
#include "fault_module.hpp"

#include "fault_fullpb.pb.h"

#include <atomic>
#include <charconv>
#include <stdexcept>
#include <string>

namespace {

using fault_plugin::Output;
using fault_plugin::Status;

class FaultFullpb : public fault_plugin::FaultModule, public drpc::plugin::StateHandoff {
public:
	FaultFullpb() { GOOGLE_PROTOBUF_VERIFY_VERSION; }

	void export_state(Output &out) override
	{
		if (!out.write(std::to_string(count_.load())))
			throw std::runtime_error("state too large");
	}

	void import_state(std::span<const uint8_t> state) override
	{
		const char *first = reinterpret_cast<const char *>(state.data());
		uint64_t count = 0;
		const auto [end, error] = std::from_chars(first, first + state.size(), count);
		if (error != std::errc() || end != first + state.size())
			throw std::runtime_error("state is not a decimal count");
		count_.store(count);
	}

private:
	Status fault(Output &out) override
	{
		drpc::fault::Counted answer;
		answer.set_count(count_.fetch_add(1) + 1);
		// Reflection is full-runtime only: the descriptor's full name proves which runtime answered.
		answer.set_note(answer.GetDescriptor()->full_name());
		std::string bytes;
		if (!answer.SerializeToString(&bytes))
			return Status::failed_marshal;
		return out.write(bytes) ? Status::success : Status::failed_marshal;
	}

	std::atomic<uint64_t> count_{0};
};

} // namespace

DRPC_PLUGIN(FaultFullpb, 4907, "fault_fullpb", "1.0.0")
