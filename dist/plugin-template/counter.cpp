// SPDX-License-Identifier: Apache-2.0
// A drpc-host plugin built out of tree: module 4100 "counter", method 0 (ADD)
// adds AddRequest.amount to a running total and answers the new total.
#include "counter.pb.h"

#include <drpc/plugin.hpp>

#include <atomic>
#include <cstdint>

namespace {

class Counter : public drpc::plugin::TypedModule<Counter> {
public:
	Counter() { on(counter::ADD, "Add", &Counter::add); }

	drpc::plugin::Status add(const drpc::plugin::CallContext &, const counter::AddRequest &in,
	                         counter::AddResponse &out)
	{
		// call() runs on several threads at once: the total is atomic.
		out.set_total(total_.fetch_add(in.amount()) + in.amount());
		return drpc::plugin::Status::success;
	}

private:
	std::atomic<int64_t> total_{0};
};

} // namespace

DRPC_PLUGIN(Counter, 4100, "counter", "1.0.0") // class, module ID, name, version
