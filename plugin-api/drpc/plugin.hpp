// SPDX-License-Identifier: Apache-2.0
/**
 * @file drpc/plugin.hpp
 * The C++ way to write a dRPC module plugin: derive from drpc::plugin::Module
 * (raw bytes) or drpc::plugin::TypedModule (protobuf messages), then export it
 * with DRPC_PLUGIN(Class, module_id, "name", "version") in one source file.
 *
 * This layer is header-only and adapts a C++ class onto the C contract of
 * drpc/plugin.h, whose threading and lifetime rules apply unchanged (read
 * them there). In short: call() runs concurrently on several threads; a module
 * protects its own state; destroy (the destructor) must stop the module's
 * threads and timers.
 *
 * Nothing thrown here crosses the boundary: an exception escaping a handler
 * answers FAILURE (or the status of a drpc::plugin::Error) and its what()
 * goes to the host's log through call_with_error; one escaping the
 * constructor refuses the load with its what() as the reason.
 *
 * @code
 *   class Greeter : public drpc::plugin::TypedModule<Greeter> {
 *   public:
 *     Greeter() { on(0, &Greeter::greet); }
 *     drpc::plugin::Status greet(const drpc::plugin::CallContext &,
 *                                const hello::Hello &in, hello::HelloResponse &out) {
 *       out.set_greeting("Hello " + in.name());
 *       return drpc::plugin::Status::success;
 *     }
 *   };
 *   DRPC_PLUGIN(Greeter, 0, "hello", "1.0.0")
 * @endcode
 *
 * ## Describing the module (calls by name)
 * A TypedModule describes itself when each on() names its method:
 * `on(0, "Greeting", &Greeter::greet)` is one line per method, and the
 * request and response types come from the handler's message classes.
 * The protobuf descriptors of those types are the plugin's embedded
 * FileDescriptorSet: the build tool `drpc-plugin-protoc` (installed with
 * drpc-plugin.pc, which names it in its variable `protoc`) runs protoc for the
 * plugin's .proto files and writes, beside the .pb.cc/.pb.h files, one
 * source file defining drpc_plugin_descriptor_set below; add it to the
 * plugin's sources. Without it the methods are still described, and a client
 * needs the types from elsewhere (drpc-ctl --proto). A Module on raw bytes
 * may override Module::description() with a static description of its own.
 *
 * Messages must be generated with `option optimize_for = LITE_RUNTIME;` and
 * the plugin linked to protobuf-lite: full-runtime generated code registers
 * itself in a process-wide pool and aborts the host when a second build of
 * the plugin is loaded beside the first.
 */
#ifndef DRPC_PLUGIN_HPP
#define DRPC_PLUGIN_HPP

#include <drpc/plugin.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <new>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

extern "C" {
/// The plugin's embedded FileDescriptorSet, defined by the source file
/// drpc-plugin-protoc generates. Weak and hidden: in a plugin built without
/// one both addresses are null (the linker resolves them so, at link time,
/// within this plugin), and no other object's symbol can stand in for them.
[[gnu::weak, gnu::visibility("hidden")]] extern const uint8_t drpc_plugin_descriptor_set[];
[[gnu::weak, gnu::visibility("hidden")]] extern const uint64_t drpc_plugin_descriptor_set_len;
}

namespace drpc::plugin {

/// The embedded FileDescriptorSet (see drpc_plugin_descriptor_set), empty
/// when the plugin was built without one.
[[nodiscard]] inline std::span<const uint8_t> embedded_descriptor_set() noexcept
{
	if (&drpc_plugin_descriptor_set_len == nullptr || drpc_plugin_descriptor_set == nullptr)
		return {};
	return {drpc_plugin_descriptor_set, static_cast<size_t>(drpc_plugin_descriptor_set_len)};
}

/// dRPC response status; the values are drpc.Status on the wire.
enum class Status : int32_t {
	success = DRPC_STATUS_SUCCESS,
	submitted = DRPC_STATUS_SUBMITTED,
	failure = DRPC_STATUS_FAILURE,
	unknown_module = DRPC_STATUS_UNKNOWN_MODULE,
	unknown_method = DRPC_STATUS_UNKNOWN_METHOD,
	failed_unmarshal_call = DRPC_STATUS_FAILED_UNMARSHAL_CALL,
	failed_unmarshal_payload = DRPC_STATUS_FAILED_UNMARSHAL_PAYLOAD,
	failed_marshal = DRPC_STATUS_FAILED_MARSHAL,
};

/// Thrown by a handler to answer a specific status instead of FAILURE.
class Error : public std::runtime_error {
public:
	Error(Status status, const std::string &what) : std::runtime_error(what), status_(status) {}
	[[nodiscard]] Status status() const noexcept { return status_; }

private:
	Status status_;
};

/// Who called, and what: one per call, valid during the call only.
struct CallContext {
	int32_t module = 0;
	int32_t method = 0;
	int64_t sequence = 0;
	int32_t peer_pid = 0;
	uint32_t peer_uid = 0;
	uint32_t peer_gid = 0;
};

/// The module's config object from the host config, as JSON text ("{}" when
/// the host config has none). Parse it with any JSON library.
struct Config {
	std::string_view json;
};

/// Where an answer goes: a host-owned buffer, valid during the call only.
class Output {
public:
	explicit Output(drpc_output &out) noexcept : out_(out) {}

	/// A buffer of exactly `size` bytes to fill; empty span when the host
	/// refuses that size (answer Status::failed_marshal then). Replaces any
	/// earlier reservation.
	[[nodiscard]] std::span<uint8_t> reserve(size_t size) noexcept
	{
		uint8_t *data = out_.reserve(out_.host_data, size);
		if (data == nullptr)
			return {};
		return {data, size};
	}

	/// Copies `bytes` as the whole answer; false when the host refuses the size.
	[[nodiscard]] bool write(std::span<const uint8_t> bytes) noexcept
	{
		if (bytes.empty()) {
			(void)out_.reserve(out_.host_data, 0);
			return true;
		}
		std::span<uint8_t> buffer = reserve(bytes.size());
		if (buffer.empty())
			return false;
		std::memcpy(buffer.data(), bytes.data(), bytes.size());
		return true;
	}

	[[nodiscard]] bool write(std::string_view bytes) noexcept
	{
		return write(std::span(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size()));
	}

private:
	drpc_output &out_;
};

/// A module on raw bytes. call() is invoked concurrently from several threads.
class Module {
public:
	Module() = default;
	Module(const Module &) = delete;
	Module &operator=(const Module &) = delete;
	virtual ~Module() = default;

	/// Handles one call. May throw: see the file comment.
	virtual Status call(const CallContext &context, std::span<const uint8_t> body, Output &out) = 0;

	/// The module's self-description (drpc/plugin.h's describe()), or null
	/// for none. Called once, after construction and before the first
	/// call(); what it returns must live as long as the module.
	[[nodiscard]] virtual const drpc_plugin_description *description() noexcept { return nullptr; }
};

/**
 * Opt-in state handoff across a reload: derive from it next to Module. The
 * host calls export_state() on the old instance once no call runs on it, and
 * import_state() on the new one before it serves. Throwing from either fails
 * the reload and leaves the old build serving.
 */
class StateHandoff {
public:
	virtual ~StateHandoff() = default;
	virtual void export_state(Output &out) = 0;
	virtual void import_state(std::span<const uint8_t> state) = 0;
};

/**
 * A module whose methods take and return protobuf (lite) messages. Register
 * each method in the constructor with on(), named to describe it (see the
 * file comment); a body that does not parse as the
 * request answers FAILED_UNMARSHAL_PAYLOAD, a response that cannot be encoded
 * answers FAILED_MARSHAL, an unregistered method UNKNOWN_METHOD.
 */
template <class Derived> class TypedModule : public Module {
public:
	Status call(const CallContext &context, std::span<const uint8_t> body, Output &out) final
	{
		for (const Method &method : methods_) {
			if (method.id == context.method)
				return method.invoke(static_cast<Derived &>(*this), context, body, out);
		}
		return Status::unknown_method;
	}

	/// The named methods and the embedded descriptor set; null when no
	/// method is named.
	[[nodiscard]] const drpc_plugin_description *description() noexcept override
	{
		try {
			described_.clear();
			for (const Method &method : methods_) {
				if (!method.name.empty())
					described_.push_back({method.id, 0, method.name.c_str(),
					                      method.request_type.c_str(),
					                      method.response_type.c_str()});
			}
		} catch (...) {
			return nullptr; // out of memory: undescribed, the calls still work
		}
		if (described_.empty())
			return nullptr;
		const std::span<const uint8_t> set = embedded_descriptor_set();
		description_ = {DRPC_PLUGIN_DESCRIPTION_VERSION, static_cast<uint32_t>(described_.size()),
		                described_.data(), set.empty() ? nullptr : set.data(), set.size()};
		return &description_;
	}

protected:
	template <class Request, class Response>
	using Handler = Status (Derived::*)(const CallContext &, const Request &, Response &);

	/// Routes `method` to `handler` and describes it as `name` ("Put",
	/// [A-Za-z0-9_]+) taking Request and answering Response (their
	/// GetTypeName(), "kv.PutRequest"). A second registration of one ID or
	/// name throws.
	template <class Request, class Response>
	void on(int32_t method, std::string_view name, Handler<Request, Response> handler)
	{
		if (name.empty())
			throw std::logic_error("method " + std::to_string(method) + " registered with an empty name");
		add(method, std::string(name), Request().GetTypeName(), Response().GetTypeName(), handler);
	}

	/// Routes `method` to `handler` without describing it: a client calls it
	/// by number only.
	template <class Request, class Response> void on(int32_t method, Handler<Request, Response> handler)
	{
		add(method, {}, {}, {}, handler);
	}

private:
	using Invoker = std::function<Status(Derived &, const CallContext &, std::span<const uint8_t>, Output &)>;
	struct Method {
		int32_t id;
		Invoker invoke;
		std::string name; ///< empty: not described
		std::string request_type;
		std::string response_type;
	};

	template <class Request, class Response>
	void add(int32_t method, std::string name, std::string request_type, std::string response_type,
	         Handler<Request, Response> handler)
	{
		for (const Method &existing : methods_) {
			if (existing.id == method || (!name.empty() && existing.name == name))
				throw std::logic_error("method " + std::to_string(method) + " '" + name +
				                       "': its number or name is registered twice");
		}
		methods_.push_back({method,
		                    [handler](Derived &self, const CallContext &context, std::span<const uint8_t> body,
		                              Output &out) {
					    return invoke_typed<Request, Response>(self, handler, context, body, out);
				    },
		                    std::move(name), std::move(request_type), std::move(response_type)});
	}

	template <class Request, class Response>
	static Status invoke_typed(Derived &self, Handler<Request, Response> handler, const CallContext &context,
	                           std::span<const uint8_t> body, Output &out)
	{
		Request request;
		if (body.size() > static_cast<size_t>(INT_MAX) ||
		    !request.ParseFromArray(body.data(), static_cast<int>(body.size())))
			return Status::failed_unmarshal_payload;
		Response response;
		const Status status = (self.*handler)(context, request, response);
		if (status != Status::success)
			return status;
		const size_t size = response.ByteSizeLong();
		if (size > static_cast<size_t>(INT_MAX))
			return Status::failed_marshal;
		std::span<uint8_t> buffer = out.reserve(size);
		if (size != 0 && buffer.empty())
			return Status::failed_marshal;
		if (size != 0)
			response.SerializeWithCachedSizesToArray(buffer.data());
		return Status::success;
	}

	std::vector<Method> methods_;
	std::vector<drpc_method_description> described_; // points into methods_
	drpc_plugin_description description_{};
};

namespace detail {

inline void set_error(drpc_error *error, const char *message) noexcept
{
	if (error == nullptr)
		return;
	std::strncpy(error->message, message, sizeof(error->message) - 1);
	error->message[sizeof(error->message) - 1] = '\0';
}

template <size_t N> consteval void copy_text(char (&to)[N], std::string_view from)
{
	if (from.empty() || from.size() >= N)
		throw "drpc plugin name/version: empty or too long for struct drpc_plugin_info";
	for (size_t i = 0; i < N; ++i)
		to[i] = i < from.size() ? from[i] : '\0';
}

consteval drpc_plugin_info make_info(int32_t module_id, std::string_view name, std::string_view version)
{
	drpc_plugin_info info{};
	copy_text(info.magic, DRPC_PLUGIN_INFO_MAGIC);
	info.abi_version = DRPC_PLUGIN_ABI_VERSION;
	info.module_id = module_id;
	for (char c : name) {
		const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		                     c == '_' || c == '.' || c == '-';
		if (!allowed)
			throw "drpc plugin name: only [A-Za-z0-9_.-] is allowed";
	}
	copy_text(info.name, name);
	copy_text(info.version, version);
	return info;
}

template <class T> void *create(const char *config_json, uint64_t config_len, drpc_error *error) noexcept
{
	try {
		if constexpr (std::is_constructible_v<T, const Config &>) {
			const Config config{std::string_view(config_json, config_len)};
			return static_cast<Module *>(new T(config));
		} else {
			return static_cast<Module *>(new T());
		}
	} catch (const std::exception &e) {
		set_error(error, e.what());
	} catch (...) {
		set_error(error, "create threw an exception that is not a std::exception");
	}
	return nullptr;
}

template <class T> void destroy(void *instance) noexcept
{
	// A destructor that throws would terminate: that is the plugin's bug to fix.
	delete static_cast<T *>(static_cast<Module *>(instance));
}

/// call_with_error(): the status a handler's exception stands for, and its
/// text for the host's log.
inline int32_t call_with_error(void *instance, const drpc_call_info *info, const uint8_t *body, uint64_t body_len,
                               drpc_output *out, drpc_error *error) noexcept
{
	try {
		const CallContext context{info->module,   info->method,   info->sequence,
		                          info->peer_pid, info->peer_uid, info->peer_gid};
		Output output(*out);
		const std::span<const uint8_t> bytes(body, body == nullptr ? 0 : body_len);
		return static_cast<int32_t>(static_cast<Module *>(instance)->call(context, bytes, output));
	} catch (const Error &e) {
		set_error(error, e.what());
		return static_cast<int32_t>(e.status());
	} catch (const std::exception &e) {
		set_error(error, e.what());
	} catch (...) {
		set_error(error, "the handler threw an exception that is not a std::exception");
	}
	return DRPC_STATUS_FAILURE;
}

/// call() for hosts that do not know call_with_error (ABI version 1).
inline int32_t call(void *instance, const drpc_call_info *info, const uint8_t *body, uint64_t body_len,
                    drpc_output *out) noexcept
{
	return call_with_error(instance, info, body, body_len, out, nullptr);
}

template <class T> int32_t export_state(void *instance, drpc_output *out, drpc_error *error) noexcept
{
	try {
		Output output(*out);
		static_cast<T *>(static_cast<Module *>(instance))->export_state(output);
		return DRPC_STATUS_SUCCESS;
	} catch (const std::exception &e) {
		set_error(error, e.what());
	} catch (...) {
		set_error(error, "export_state threw an exception that is not a std::exception");
	}
	return DRPC_STATUS_FAILURE;
}

template <class T>
int32_t import_state(void *instance, const uint8_t *state, uint64_t state_len, drpc_error *error) noexcept
{
	try {
		const std::span<const uint8_t> bytes(state, state == nullptr ? 0 : state_len);
		static_cast<T *>(static_cast<Module *>(instance))->import_state(bytes);
		return DRPC_STATUS_SUCCESS;
	} catch (const std::exception &e) {
		set_error(error, e.what());
	} catch (...) {
		set_error(error, "import_state threw an exception that is not a std::exception");
	}
	return DRPC_STATUS_FAILURE;
}

inline const drpc_plugin_description *describe(void *instance) noexcept
{
	return static_cast<Module *>(instance)->description();
}

template <class T> constexpr drpc_plugin make_plugin(const drpc_plugin_info *info)
{
	static_assert(std::is_base_of_v<Module, T>, "a drpc plugin class derives from drpc::plugin::Module");
	drpc_plugin plugin{
		DRPC_PLUGIN_ABI_VERSION, sizeof(drpc_plugin), info, &create<T>, &destroy<T>, &call, nullptr, nullptr,
		&call_with_error,        &describe,
	};
	if constexpr (std::is_base_of_v<StateHandoff, T>) {
		plugin.export_state = &export_state<T>;
		plugin.import_state = &import_state<T>;
	}
	return plugin;
}

} // namespace detail
} // namespace drpc::plugin

/**
 * Exports `ModuleClass` as this shared object's plugin. Use once per plugin,
 * at namespace scope. `module_id` is an integer constant, `name` and
 * `version` string literals (checked at compile time against the limits of
 * struct drpc_plugin_info).
 */
#define DRPC_PLUGIN(ModuleClass, module_id, name, version)                                                             \
	extern "C" {                                                                                                   \
	[[gnu::section(DRPC_PLUGIN_INFO_SECTION),                                                                      \
	  gnu::used]] constinit const drpc_plugin_info drpc_plugin_info_record =                                       \
		::drpc::plugin::detail::make_info((module_id), (name), (version));                                     \
	[[gnu::visibility("default")]] const drpc_plugin *drpc_plugin_entry(void) noexcept                             \
	{                                                                                                              \
		static constexpr drpc_plugin descriptor =                                                              \
			::drpc::plugin::detail::make_plugin<ModuleClass>(&drpc_plugin_info_record);                    \
		return &descriptor;                                                                                    \
	}                                                                                                              \
	}

#endif // DRPC_PLUGIN_HPP
