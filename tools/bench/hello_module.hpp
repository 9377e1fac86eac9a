// SPDX-License-Identifier: Apache-2.0
/// @file hello_module.hpp
/// The built-in module the bench calls: DAOS's test "hello" (module 0),
/// answering hello.Hello{name} with hello.HelloResponse{"Hello " + name}.
///
/// Method 0 (GREETING) is written the way a plugin author would: generated
/// messages in and out, as the hello plugin does. Method 1 answers the same
/// bytes with no intermediate copy, reading the name in place and writing
/// the greeting straight into the response buffer, so that comparing the two
/// tells the library's cost from the handler's.
#pragma once

#include <drpc/module.hpp>

namespace drpc::bench {

inline constexpr int32_t hello_module_id = 0;
inline constexpr int32_t hello_greeting_method = 0;
inline constexpr int32_t hello_in_place_method = 1;

class HelloModule final : public Module {
public:
	[[nodiscard]] int32_t id() const noexcept override { return hello_module_id; }
	[[nodiscard]] std::string name() const override { return "bench hello"; }
	Status handle_call(const CallContext &context, std::span<const uint8_t> body, ResponseBody &out) override;
};

} // namespace drpc::bench
