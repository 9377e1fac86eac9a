// SPDX-License-Identifier: Apache-2.0
// The plugin tests' stand-in for the host's side of the C ABI.

#include "plugin_support.hpp"

#include <cstdlib>
#include <dlfcn.h>
#include <stdexcept>
#include <system_error>

#ifndef PLUGIN_DIR
#error "PLUGIN_DIR must name the build's plugins directory"
#endif

namespace plugin_test {

namespace {

/// The host's side of drpc_output: a growable buffer with a size limit.
struct Sink {
	std::string bytes;
	uint64_t limit = 0;

	static uint8_t *reserve(void *self, uint64_t size)
	{
		auto *sink = static_cast<Sink *>(self);
		if (size > sink->limit)
			return nullptr;
		sink->bytes.assign(size, '\0');
		return reinterpret_cast<uint8_t *>(sink->bytes.data());
	}

	drpc_output output() { return {DRPC_OUTPUT_VERSION, 0, this, &Sink::reserve}; }
};

} // namespace

std::filesystem::path plugin_path(std::string_view name)
{
	return std::filesystem::path(PLUGIN_DIR) / (std::string(name) + ".so");
}

Library::Library(const std::filesystem::path &path)
{
	handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
	if (handle_ == nullptr)
		throw std::runtime_error("dlopen " + path.string() + ": " + dlerror());
	auto entry = reinterpret_cast<drpc_plugin_entry_fn>(dlsym(handle_, DRPC_PLUGIN_ENTRY_SYMBOL));
	plugin_ = entry == nullptr ? nullptr : entry();
	if (plugin_ == nullptr) {
		dlclose(handle_);
		throw std::runtime_error(path.string() + ": no " DRPC_PLUGIN_ENTRY_SYMBOL " or it returned NULL");
	}
}

Library::~Library() { dlclose(handle_); }

void *Library::symbol(const char *name) const noexcept { return dlsym(handle_, name); }

Instance::Instance(const drpc_plugin &plugin, std::string_view config_json) : plugin_(plugin)
{
	drpc_error error{};
	instance_ = plugin_.create(config_json.data(), config_json.size(), &error);
	if (instance_ == nullptr)
		throw std::runtime_error(std::string("create failed: ") + error.message);
}

Instance::~Instance() { plugin_.destroy(instance_); }

const drpc_plugin_description *Instance::describe() const
{
	return DRPC_PLUGIN_HAS(&plugin_, describe) ? plugin_.describe(instance_) : nullptr;
}

Answer Instance::call(int32_t method, std::string_view body, uint64_t max_answer_bytes) const
{
	const drpc_call_info info{DRPC_CALL_INFO_VERSION, plugin_.info->module_id, method, 1, 0, 0, 7};
	Sink sink;
	sink.limit = max_answer_bytes;
	drpc_output out = sink.output();
	const auto *bytes = reinterpret_cast<const uint8_t *>(body.empty() ? nullptr : body.data());
	Answer answer;
	answer.status = plugin_.call(instance_, &info, bytes, body.size(), &out);
	answer.body = std::move(sink.bytes);
	return answer;
}

Answer Instance::export_state() const
{
	if (plugin_.export_state == nullptr)
		throw std::logic_error("the plugin has no export_state");
	Sink sink;
	sink.limit = uint64_t{1} << 30;
	drpc_output out = sink.output();
	drpc_error error{};
	Answer answer;
	answer.status = plugin_.export_state(instance_, &out, &error);
	answer.body = answer.status == DRPC_STATUS_SUCCESS ? std::move(sink.bytes) : std::string(error.message);
	return answer;
}

Answer Instance::import_state(std::string_view state) const
{
	if (plugin_.import_state == nullptr)
		throw std::logic_error("the plugin has no import_state");
	drpc_error error{};
	Answer answer;
	answer.status =
		plugin_.import_state(instance_, reinterpret_cast<const uint8_t *>(state.data()), state.size(), &error);
	if (answer.status != DRPC_STATUS_SUCCESS)
		answer.body = error.message;
	return answer;
}

std::string create_error(const drpc_plugin &plugin, std::string_view config_json)
{
	drpc_error error{};
	void *instance = plugin.create(config_json.data(), config_json.size(), &error);
	if (instance != nullptr) {
		plugin.destroy(instance);
		return "";
	}
	return error.message;
}

} // namespace plugin_test
