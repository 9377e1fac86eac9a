// SPDX-License-Identifier: Apache-2.0
// A fresh client's first answer and call latency.
#include "fresh_client.hpp"

#include "hello.pb.h"
#include "hello_module.hpp"

#include <drpc/client.hpp>
#include <drpc/error.hpp>

#include <chrono>

namespace drpc::bench {

std::string hello_call_bytes(const std::string &name, int64_t sequence)
{
	hello::Hello request;
	request.set_name(name);
	Call call;
	call.set_module(hello_module_id);
	call.set_method(hello_greeting_method);
	call.set_sequence(sequence);
	call.set_body(request.SerializeAsString());
	return call.SerializeAsString();
}

FreshClient fresh_client(const std::filesystem::path &socket, unsigned calls)
{
	using Clock = std::chrono::steady_clock;
	FreshClient result;
	hello::Hello request;
	request.set_name("fresh");
	Call call;
	call.set_module(hello_module_id);
	call.set_method(hello_greeting_method);
	call.set_body(request.SerializeAsString());
	try {
		ClientConnection client(socket, ClientOptions{.call_timeout = std::chrono::seconds(5)});
		const auto start = Clock::now();
		client.connect();
		if (client.send_msg(call).status() != Status::SUCCESS)
			result.error = "the first call failed";
		result.first_answer_us = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
		std::vector<int64_t> samples;
		samples.reserve(calls);
		for (unsigned i = 0; i < calls; ++i) {
			const auto before = Clock::now();
			if (client.send_msg(call).status() != Status::SUCCESS)
				result.error = "a call failed";
			samples.push_back(
				std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - before).count());
		}
		result.calls = summarize(samples);
	} catch (const Error &e) {
		result.error = e.what();
	}
	return result;
}

} // namespace drpc::bench
