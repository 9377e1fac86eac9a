// SPDX-License-Identifier: Apache-2.0
// Sizing the bench's call to a payload, checking a server answers it right,
// and the dRPC Caller.
#include "drpc_caller.hpp"

#include "hello.pb.h"

#include <drpc/codec.hpp>
#include <drpc/status.hpp>

#include <stdexcept>

namespace drpc::bench {
namespace {

/// Calls late in a run carry a 3-byte sequence; sizing for that keeps the
/// average call within a byte of the payload asked for.
constexpr int64_t typical_sequence = 100'000;

size_t varint_size(uint64_t value)
{
	size_t size = 1;
	for (; value >= 0x80; value >>= 7)
		++size;
	return size;
}

/// Encoded size of hello.Hello with a name of `name_bytes` (proto3 omits an
/// empty string).
size_t hello_size(size_t name_bytes) { return name_bytes == 0 ? 0 : 1 + varint_size(name_bytes) + name_bytes; }

} // namespace

CallPlan plan_call(int32_t module, int32_t method, size_t payload_bytes, bool hello)
{
	// Only sizes matter to encoded_size(), so one filler serves every body.
	const std::string filler(payload_bytes, 'x');
	const auto call_size = [&](size_t body_bytes) {
		return codec::encoded_size(codec::CallView{module, method, typical_sequence,
		                                           std::string_view(filler).substr(0, body_bytes)});
	};
	const auto body_size = [&](size_t fill) { return hello ? hello_size(fill) : fill; };

	size_t fill = payload_bytes;
	while (fill > 0 && (body_size(fill) > payload_bytes || call_size(body_size(fill)) > payload_bytes))
		--fill;
	if (call_size(body_size(fill)) > payload_bytes)
		throw std::invalid_argument("payload of " + std::to_string(payload_bytes) +
		                            " bytes is smaller than the smallest call (" +
		                            std::to_string(call_size(0)) + " bytes)");

	CallPlan plan;
	plan.call.set_module(module);
	plan.call.set_method(method);
	if (hello) {
		hello::Hello request;
		request.set_name(filler.substr(0, fill));
		plan.call.set_body(request.SerializeAsString());
		plan.expected_greeting = "Hello " + request.name();
	} else {
		plan.call.set_body(filler.substr(0, fill));
	}
	plan.encoded_bytes = call_size(plan.call.body().size());
	return plan;
}

void probe(const std::filesystem::path &socket_path, const CallPlan &plan)
{
	ClientConnection connection(socket_path);
	connection.connect();
	const Response response = connection.send_msg(plan.call);
	const std::string where = "module " + std::to_string(plan.call.module()) + " method " +
	                          std::to_string(plan.call.method()) + " at " + socket_path.string();
	if (response.status() != Status::SUCCESS)
		throw std::runtime_error(where + " answered " + to_string(response.status()));
	if (!plan.expected_greeting)
		return;
	hello::HelloResponse greeting;
	if (!greeting.ParseFromString(response.body()))
		throw std::runtime_error(where + ": the answer does not decode as hello.HelloResponse");
	if (greeting.greeting() != *plan.expected_greeting)
		throw std::runtime_error(where + ": the greeting is " + std::to_string(greeting.greeting().size()) +
		                         " bytes, expected \"Hello \" and the " +
		                         std::to_string(plan.expected_greeting->size() - 6) + "-byte name");
}

DrpcCaller::DrpcCaller(const std::filesystem::path &socket_path, const Call &call)
	: connection_(socket_path), call_(call)
{
	connection_.connect();
}

void DrpcCaller::call()
{
	// The zero-copy form: the body goes out from call_, the answer is read
	// where it was received; what a latency-minded client would use.
	Status status = Status::SUCCESS;
	connection_.send_msg(codec::CallView{call_.module(), call_.method(), 0, call_.body()},
	                     std::chrono::milliseconds(0),
	                     [&status](const codec::ResponseView &response) { status = response.status; });
	if (status != Status::SUCCESS)
		throw std::runtime_error("call answered " + to_string(status));
}

} // namespace drpc::bench
