// SPDX-License-Identifier: Apache-2.0
// The C++ plugin layer, driven through the C descriptor exactly as the host
// drives it: status mapping, exceptions, typed methods, state handoff.
#include <drpc/plugin.hpp> // first: the header compiles with nothing before it

#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

namespace {

using drpc::plugin::CallContext;
using drpc::plugin::Status;

/// A stand-in for a generated protobuf message: "ok:" + text, or a parse failure.
struct Text {
	std::string value;
	bool ParseFromArray(const void *data, int size)
	{
		std::string bytes(static_cast<const char *>(data), static_cast<size_t>(size));
		if (bytes.rfind("ok:", 0) != 0)
			return false;
		value = bytes.substr(3);
		return true;
	}
	[[nodiscard]] size_t ByteSizeLong() const { return value.size(); }
	[[nodiscard]] std::string GetTypeName() const { return "sample.Text"; }
	uint8_t *SerializeWithCachedSizesToArray(uint8_t *out) const
	{
		std::memcpy(out, value.data(), value.size());
		return out + value.size();
	}
};

class Sample : public drpc::plugin::TypedModule<Sample>, public drpc::plugin::StateHandoff {
public:
	explicit Sample(const drpc::plugin::Config &config)
	{
		if (config.json == "bad")
			throw std::runtime_error("config says bad");
		on(0, "Upper", &Sample::upper);
		on(1, &Sample::fail_with); // not described: callable by number only
	}
	Status upper(const CallContext &context, const Text &in, Text &out)
	{
		out.value = in.value + "/" + std::to_string(context.sequence);
		for (char &c : out.value)
			c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
		return Status::success;
	}
	Status fail_with(const CallContext &, const Text &in, Text &)
	{
		if (in.value == "throw")
			throw std::runtime_error("boom");
		if (in.value == "error")
			throw drpc::plugin::Error(Status::failed_unmarshal_payload, "custom");
		return Status::failure;
	}
	void export_state(drpc::plugin::Output &out) override { (void)out.write(std::string_view(state_)); }
	void import_state(std::span<const uint8_t> state) override
	{
		state_.assign(reinterpret_cast<const char *>(state.data()), state.size());
	}
	std::string state_ = "initial";
};

struct Sink {
	std::vector<uint8_t> bytes;
	uint64_t limit = 1024;
	static uint8_t *reserve(void *self, uint64_t size)
	{
		auto *sink = static_cast<Sink *>(self);
		if (size > sink->limit)
			return nullptr;
		sink->bytes.assign(size, 0);
		return sink->bytes.data();
	}
	drpc_output output() { return {DRPC_OUTPUT_VERSION, 0, this, &Sink::reserve}; }
};

} // namespace

DRPC_PLUGIN(Sample, 4242, "sample", "1.2.3")

TEST_CASE("DRPC_PLUGIN fills the descriptor and the info record")
{
	const drpc_plugin *plugin = drpc_plugin_entry();
	REQUIRE(plugin != nullptr);
	CHECK(plugin->abi_version == DRPC_PLUGIN_ABI_VERSION);
	CHECK(plugin->struct_size == sizeof(drpc_plugin));
	CHECK(plugin->info == &drpc_plugin_info_record);
	CHECK(std::string(plugin->info->magic) == DRPC_PLUGIN_INFO_MAGIC);
	CHECK(plugin->info->module_id == 4242);
	CHECK(std::string(plugin->info->name) == "sample");
	CHECK(std::string(plugin->info->version) == "1.2.3");
	CHECK((plugin->export_state != nullptr));
	CHECK((plugin->import_state != nullptr));
}

TEST_CASE("create reports a throwing constructor as an error, not an exception")
{
	const drpc_plugin *plugin = drpc_plugin_entry();
	drpc_error error{};
	CHECK(plugin->create("bad", 3, &error) == nullptr);
	CHECK(std::string(error.message) == "config says bad");
}

TEST_CASE("calls map handler outcomes onto statuses")
{
	const drpc_plugin *plugin = drpc_plugin_entry();
	drpc_error error{};
	void *instance = plugin->create("{}", 2, &error);
	REQUIRE(instance != nullptr);

	struct Case {
		const char *name;
		int32_t method;
		std::string body;
		int32_t status;
		std::string answer;
	};
	const std::vector<Case> cases = {
		{"typed success", 0, "ok:abc", DRPC_STATUS_SUCCESS, "ABC/7"},
		{"undecodable body", 0, "garbage", DRPC_STATUS_FAILED_UNMARSHAL_PAYLOAD, ""},
		{"handler returns failure", 1, "ok:x", DRPC_STATUS_FAILURE, ""},
		{"handler throws", 1, "ok:throw", DRPC_STATUS_FAILURE, ""},
		{"handler throws drpc::plugin::Error", 1, "ok:error", DRPC_STATUS_FAILED_UNMARSHAL_PAYLOAD, ""},
		{"unknown method", 9, "ok:", DRPC_STATUS_UNKNOWN_METHOD, ""},
	};
	for (const Case &c : cases) {
		SUBCASE(c.name)
		{
			Sink sink;
			drpc_output out = sink.output();
			const drpc_call_info info{DRPC_CALL_INFO_VERSION, 4242, c.method, 1, 0, 0, 7};
			const int32_t status = plugin->call(
				instance, &info, reinterpret_cast<const uint8_t *>(c.body.data()), c.body.size(), &out);
			CHECK(status == c.status);
			if (status == DRPC_STATUS_SUCCESS)
				CHECK(std::string(sink.bytes.begin(), sink.bytes.end()) == c.answer);
		}
	}

	SUBCASE("an answer over the host's limit is FAILED_MARSHAL")
	{
		Sink sink;
		sink.limit = 2;
		drpc_output out = sink.output();
		const drpc_call_info info{DRPC_CALL_INFO_VERSION, 4242, 0, 1, 0, 0, 7};
		const std::string body = "ok:long";
		CHECK(plugin->call(instance, &info, reinterpret_cast<const uint8_t *>(body.data()), body.size(),
		                   &out) == DRPC_STATUS_FAILED_MARSHAL);
	}
	plugin->destroy(instance);
}

TEST_CASE("a TypedModule describes its named methods and the embedded descriptor set")
{
	const drpc_plugin *plugin = drpc_plugin_entry();
	REQUIRE(DRPC_PLUGIN_HAS(plugin, describe));
	drpc_error error{};
	void *instance = plugin->create("{}", 2, &error);
	REQUIRE(instance != nullptr);
	const drpc_plugin_description *description = plugin->describe(instance);
	REQUIRE(description != nullptr);
	CHECK(description->version == DRPC_PLUGIN_DESCRIPTION_VERSION);
	REQUIRE(description->method_count == 1); // method 1 has no name
	CHECK(description->methods[0].method == 0);
	CHECK(std::string(description->methods[0].name) == "Upper");
	CHECK(std::string(description->methods[0].request_type) == "sample.Text");
	CHECK(std::string(description->methods[0].response_type) == "sample.Text");
	// sample.proto's set, embedded by drpc-plugin-protoc (tests/plugin-api/meson.build).
	REQUIRE(description->descriptor_set != nullptr);
	REQUIRE(description->descriptor_set_len > 2);
	CHECK(description->descriptor_set[0] == 0x0a); // FileDescriptorSet.file, length-delimited
	const std::string set(reinterpret_cast<const char *>(description->descriptor_set),
	                      description->descriptor_set_len);
	CHECK(set.find("sample.proto") != std::string::npos);
	plugin->destroy(instance);
}

TEST_CASE("on() refuses a method number or name registered twice")
{
	struct Twice : drpc::plugin::TypedModule<Twice> {
		explicit Twice(int which)
		{
			on(0, "Same", &Twice::handle);
			if (which == 0)
				on(0, "Other", &Twice::handle);
			else if (which == 1)
				on(1, "Same", &Twice::handle);
			else
				on(2, "", &Twice::handle);
		}
		Status handle(const CallContext &, const Text &, Text &) { return Status::success; }
	};
	CHECK_THROWS_WITH_AS(Twice(0), "method 0 'Other': its number or name is registered twice", std::logic_error);
	CHECK_THROWS_WITH_AS(Twice(1), "method 1 'Same': its number or name is registered twice", std::logic_error);
	CHECK_THROWS_WITH_AS(Twice(2), "method 2 registered with an empty name", std::logic_error);
}

TEST_CASE("state handoff moves bytes from one instance to another")
{
	const drpc_plugin *plugin = drpc_plugin_entry();
	drpc_error error{};
	void *old_instance = plugin->create("{}", 2, &error);
	void *new_instance = plugin->create("{}", 2, &error);
	REQUIRE(old_instance != nullptr);
	REQUIRE(new_instance != nullptr);
	const std::string state = "counter=41";
	REQUIRE(plugin->import_state(old_instance, reinterpret_cast<const uint8_t *>(state.data()), state.size(),
	                             &error) == DRPC_STATUS_SUCCESS);
	Sink sink;
	drpc_output out = sink.output();
	REQUIRE(plugin->export_state(old_instance, &out, &error) == DRPC_STATUS_SUCCESS);
	REQUIRE(plugin->import_state(new_instance, sink.bytes.data(), sink.bytes.size(), &error) ==
	        DRPC_STATUS_SUCCESS);
	CHECK(static_cast<Sample *>(static_cast<drpc::plugin::Module *>(new_instance))->state_ == state);
	plugin->destroy(old_instance);
	plugin->destroy(new_instance);
}
