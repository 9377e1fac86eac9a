// SPDX-License-Identifier: Apache-2.0
// A test plugin (module 4300) that describes itself: methods 0 Ping and 1
// Nested echo, with described.proto's descriptor set embedded. Its config's
// "mode" breaks the description one way at a time, for the loader's checks:
// each must leave the module serving, undescribed.
#include <drpc/plugin.hpp>

#include <string>
#include <vector>

namespace {

using drpc::plugin::CallContext;
using drpc::plugin::Output;
using drpc::plugin::Status;

/// A set that is not protobuf wire format: a length past the end.
constexpr uint8_t malformed_set[] = {0x0a, 0x7f, 0x01};

class Described : public drpc::plugin::Module {
public:
	explicit Described(const drpc::plugin::Config &config) : mode_(mode_of(config.json))
	{
		methods_ = {{0, 0, "Ping", "described.Ping", "described.Pong"},
		            {1, 0, "Nested", "described.Ping.Detail", "described.Ping.Detail"}};
		const std::span<const uint8_t> set = drpc::plugin::embedded_descriptor_set();
		description_ = {DRPC_PLUGIN_DESCRIPTION_VERSION, 2, methods_.data(), set.data(), set.size()};
		if (mode_ == "oversized") // the length alone refuses it: the bytes are never read
			description_.descriptor_set_len = DRPC_DESCRIPTOR_SET_MAX + 1;
		else if (mode_ == "malformed")
			description_ = {DRPC_PLUGIN_DESCRIPTION_VERSION, 2, methods_.data(), malformed_set,
			                sizeof(malformed_set)};
		else if (mode_ == "unknown_type")
			methods_[1].response_type = "described.Missing";
		else if (mode_ == "bad_name")
			methods_[0].name = "Ping me";
		else if (mode_ == "too_many")
			description_.method_count = DRPC_DESCRIPTION_METHODS_MAX + 1;
		else if (mode_ == "twice")
			methods_[1].method = 0;
		else if (mode_ == "no_set")
			description_ = {DRPC_PLUGIN_DESCRIPTION_VERSION, 2, methods_.data(), nullptr, 0};
	}

	Status call(const CallContext &context, std::span<const uint8_t> body, Output &out) override
	{
		if (context.method != 0 && context.method != 1)
			return Status::unknown_method;
		return out.write(body) ? Status::success : Status::failed_marshal;
	}

	const drpc_plugin_description *description() noexcept override
	{
		return mode_ == "none" ? nullptr : &description_;
	}

private:
	static std::string mode_of(std::string_view json)
	{
		const size_t at = json.find("\"mode\":\"");
		if (at == std::string_view::npos)
			return {};
		const std::string_view rest = json.substr(at + 8);
		return std::string(rest.substr(0, rest.find('"')));
	}

	std::string mode_;
	std::vector<drpc_method_description> methods_;
	drpc_plugin_description description_{};
};

} // namespace

DRPC_PLUGIN(Described, 4300, "described", "1.0.0")
