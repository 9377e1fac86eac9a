// SPDX-License-Identifier: Apache-2.0
// DAOS's test "hello" module as a plugin: module 0, method 0 GREETING answers
// hello.Hello{name} with hello.HelloResponse{"Hello " + name}, byte for byte as
// DAOS's own hello_drpc server does.

#include "hello.pb.h"

#include <drpc/plugin.hpp>

namespace {

using drpc::plugin::CallContext;
using drpc::plugin::Status;

class HelloModule : public drpc::plugin::TypedModule<HelloModule> {
public:
	/// DAOS's hello.Function.GREETING.
	static constexpr int32_t greeting_method = 0;

	HelloModule() { on(greeting_method, "Greeting", &HelloModule::greet); }

	Status greet(const CallContext &, const hello::Hello &request, hello::HelloResponse &response)
	{
		response.set_greeting("Hello " + request.name());
		return Status::success;
	}
};

} // namespace

DRPC_PLUGIN(HelloModule, 0, "hello", "1.0.0")
