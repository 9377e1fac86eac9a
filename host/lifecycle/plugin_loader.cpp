// SPDX-License-Identifier: Apache-2.0
// Loading one plugin file, every check in the order that keeps a bad
// plugin's code from running.
#include "plugin_loader.hpp"

#include "elf_info.hpp"
#include "plugin_description.hpp"
#include "plugin_info.hpp"

#include <drpc/error.hpp>
#include <drpc/log.hpp>

#include <dlfcn.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace drpc::host {
namespace {

constexpr std::string_view log_component = "plugins";

/// A read-only view of a whole file, for the ELF reader. Mapping it as data
/// runs nothing; only dlopen() would.
class FileView {
public:
	explicit FileView(int fd)
	{
		struct stat st {};
		if (::fstat(fd, &st) != 0)
			throw drpc::SystemError("fstat of the runtime copy", errno);
		size_ = static_cast<size_t>(st.st_size);
		if (size_ == 0)
			return;
		void *data = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
		if (data == MAP_FAILED)
			throw drpc::SystemError("mmap of the runtime copy", errno);
		data_ = static_cast<const uint8_t *>(data);
	}
	~FileView()
	{
		if (data_ != nullptr)
			::munmap(const_cast<uint8_t *>(data_), size_);
	}
	FileView(const FileView &) = delete;
	FileView &operator=(const FileView &) = delete;

	[[nodiscard]] std::span<const uint8_t> bytes() const noexcept { return {data_, data_ == nullptr ? 0 : size_}; }

private:
	const uint8_t *data_ = nullptr;
	size_t size_ = 0;
};

/// Checks what drpc_plugin_entry() returned against the record read from the file.
void check_descriptor(const drpc_plugin *plugin, const drpc_plugin_info &info)
{
	if (plugin == nullptr)
		throw drpc::Error(DRPC_PLUGIN_ENTRY_SYMBOL "() returned NULL");
	if (plugin->abi_version != DRPC_PLUGIN_ABI_VERSION)
		throw drpc::Error("descriptor ABI version " + std::to_string(plugin->abi_version) +
		                  ", this host speaks " + std::to_string(DRPC_PLUGIN_ABI_VERSION));
	// Shorter than this host's struct is fine (an older plugin.h: the newer
	// fields read as absent); shorter than version 1 is not a descriptor.
	if (plugin->struct_size < DRPC_PLUGIN_SIZE_V1)
		throw drpc::Error("descriptor is " + std::to_string(plugin->struct_size) +
		                  " bytes, less than version 1's " + std::to_string(DRPC_PLUGIN_SIZE_V1));
	if (plugin->info == nullptr || std::memcmp(plugin->info, &info, sizeof(info)) != 0)
		throw drpc::Error("the descriptor's info differs from the " DRPC_PLUGIN_INFO_SECTION " section");
	if (plugin->create == nullptr || plugin->destroy == nullptr || plugin->call == nullptr)
		throw drpc::Error(std::string("descriptor has no ") +
		                  (plugin->create == nullptr    ? "create"
		                   : plugin->destroy == nullptr ? "destroy"
		                                                : "call") +
		                  " function");
	if ((plugin->export_state == nullptr) != (plugin->import_state == nullptr))
		throw drpc::Error("descriptor has export_state or import_state without the other");
}

/// Refuses an image that needs the full protobuf runtime, naming the fix.
void refuse_full_protobuf(std::span<const uint8_t> image)
{
	for (const std::string &library : elf::needed_libraries(image)) {
		if (library.starts_with("libprotobuf.so"))
			throw drpc::Error("needs " + library +
			                  ", the full protobuf runtime, which aborts the host when a second build "
			                  "is loaded (a reload); generate its messages with "
			                  "`option optimize_for = LITE_RUNTIME;` and link protobuf-lite instead");
	}
}

/// The plugin's self-description, read and checked; null when it has none
/// or when it is not fit to serve (logged, naming the file and why: the
/// module still serves, undescribed). Throws std::bad_alloc only.
std::shared_ptr<const ModuleDescription> description_of(const std::filesystem::path &source, const drpc_plugin &plugin,
                                                        void *instance)
{
	if (!DRPC_PLUGIN_HAS(&plugin, describe))
		return nullptr;
	const drpc_plugin_description *description = nullptr;
	try {
		description = plugin.describe(instance);
	} catch (...) {
		drpc::log::warn(log_component, source.string() + ": describe() let an exception escape; " +
		                                       describe(*plugin.info) + " serves undescribed");
		return nullptr;
	}
	if (description == nullptr)
		return nullptr;
	try {
		return std::make_shared<const ModuleDescription>(read_description(*description));
	} catch (const drpc::Error &e) {
		drpc::log::warn(log_component, source.string() + ": " + describe(*plugin.info) +
		                                       ": its self-description is ignored (it serves undescribed): " +
		                                       drpc::log::untrusted(e.what(), 512));
		return nullptr;
	}
}

boost::dll::shared_library map_library(const std::filesystem::path &copy)
{
	// Boost.DLL binds lazily unless told; binding now makes a missing symbol
	// a load error instead of a crash in the middle of a call.
	boost::dll::shared_library library;
	std::error_code error;
	library.load(copy, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, error);
	if (error) {
		const char *why = ::dlerror();
		throw drpc::Error(std::string("dlopen: ") + (why != nullptr ? why : error.message()));
	}
	return library;
}

/// The steps after the checks of the file: map `mapped` (the copy, by a path
/// the dynamic loader can open), check the descriptor, create the instance.
/// `copy` is what keeps the file, handed to the module.
std::shared_ptr<HostedModule> create_module(const std::filesystem::path &source, uint64_t generation,
                                            const drpc_plugin_info &info, const std::filesystem::path &mapped,
                                            RuntimeFile copy, const std::string &config,
                                            std::shared_ptr<const AccessList> access)
{
	boost::dll::shared_library library = map_library(mapped);
	if (!library.has(DRPC_PLUGIN_ENTRY_SYMBOL))
		throw drpc::Error("no " DRPC_PLUGIN_ENTRY_SYMBOL " symbol");
	const auto entry = library.get<const drpc_plugin *()>(DRPC_PLUGIN_ENTRY_SYMBOL);
	const drpc_plugin *plugin = entry();
	check_descriptor(plugin, info);

	drpc_error error{};
	void *instance = nullptr;
	try {
		instance = plugin->create(config.data(), config.size(), &error);
	} catch (...) {
		// The C ABI forbids it, but a C++ plugin written without plugin.hpp
		// may still let one through.
		throw drpc::Error("create() let an exception escape");
	}
	if (instance == nullptr)
		throw drpc::Error("create() failed: " + plugin_error_text(error));

	LoadedPlugin loaded{
		.source = source,
		.generation = generation,
		.copy = std::move(copy),
		.mapped = mapped,
		.library = std::move(library),
		.plugin = plugin,
		.call_with_error = DRPC_PLUGIN_HAS(plugin, call_with_error) ? plugin->call_with_error : nullptr,
		.info = info,
		.instance = instance,
		.access = std::move(access),
		.description = nullptr,
	};
	try {
		loaded.description = description_of(source, *plugin, instance);
	} catch (...) {
		plugin->destroy(instance); // out of memory copying it
		throw;
	}
	try {
		return std::make_shared<PluginModule>(std::move(loaded));
	} catch (...) {
		plugin->destroy(instance); // make_shared failed before taking `loaded` over
		throw;
	}
}

} // namespace

PluginLoader::PluginLoader(RuntimeDir &runtime, ModuleConfigs module_configs)
	: runtime_(runtime), module_configs_(std::move(module_configs))
{
}

std::string PluginLoader::module_config(std::string_view name) const
{
	const auto found = module_configs_.find(name);
	return found == module_configs_.end() ? std::string("{}") : found->second;
}

void PluginLoader::set_access_lists(const AccessLists &lists)
{
	access_.clear();
	for (const auto &[name, list] : lists)
		access_.emplace(name, std::make_shared<const AccessList>(list));
}

LoadResult PluginLoader::load(const PluginDirectory &directory, std::string_view name, const Admission &admit,
                              const LoadPolicy &policy)
{
	LoadResult result;
	result.source = directory.path() / name;
	uint64_t attempt = 0;
	{
		// The generation a success would be; only a success takes it.
		const std::lock_guard lock(generations_mutex_);
		Counts &counts = counts_[std::string(name)];
		attempt = ++counts.attempts;
		result.generation = counts.generations + 1;
	}
	try {
		RuntimeFile copy = directory.copy_plugin(name, runtime_, attempt);
		{
			const FileView view(copy.fd());
			result.info = read_plugin_info(view.bytes());
			// A worker process of its own maps only this build: the full
			// runtime's clash between two builds cannot happen there.
			const bool isolated = isolation_.for_module(result.info->name).isolation == Isolation::process;
			if (!policy.allow_full_protobuf && !isolated)
				refuse_full_protobuf(view.bytes());
			warn_of_exports(name, view.bytes());
		}
		copy.close();
		if (admit) {
			if (auto refusal = admit(*result.info)) {
				result.error = std::move(*refusal);
				return result;
			}
		}
		result.module = map_and_create(result, std::move(copy));
		const std::lock_guard lock(generations_mutex_);
		Counts &counts = counts_[std::string(name)];
		counts.generations = std::max(counts.generations, result.generation);
	} catch (const std::exception &e) {
		result.error = e.what();
	}
	return result;
}

void PluginLoader::warn_of_exports(std::string_view name, std::span<const uint8_t> image)
{
	const size_t exported = elf::exported_symbol_count(image);
	if (exported <= max_quiet_exports)
		return;
	{
		const std::lock_guard lock(generations_mutex_);
		if (!export_warned_.emplace(name).second)
			return; // once per file name: every reload would say the same
	}
	drpc::log::warn(log_component,
	                drpc::log::untrusted(std::string(name)) + " exports " + std::to_string(exported) +
	                        " dynamic symbols (more than " + std::to_string(max_quiet_exports) +
	                        "): any of them may clash with another plugin's or the host's; build it with "
	                        "drpc_plugin_dep, whose export map keeps " DRPC_PLUGIN_ENTRY_SYMBOL " alone");
}

std::shared_ptr<HostedModule> PluginLoader::map_and_create(LoadResult &result, RuntimeFile copy)
{
	const drpc_plugin_info &info = *result.info;
	std::shared_ptr<const AccessList> access;
	if (const auto found = access_.find(std::string_view(info.name)); found != access_.end())
		access = found->second;
	IsolationSettings settings = isolation_.for_module(info.name);
	if (settings.isolation == Isolation::process) {
		if (!isolated_starter_)
			throw drpc::Error("isolation \"process\" is not available in this process");
		return isolated_starter_->start(IsolatedPlugin{
			.source = result.source,
			.generation = result.generation,
			.copy = std::move(copy),
			.info = info,
			.config = module_config(info.name),
			.access = std::move(access),
			.settings = std::move(settings),
		});
	}
	const std::filesystem::path mapped = copy.path();
	return create_module(result.source, result.generation, info, mapped, std::move(copy), module_config(info.name),
	                     std::move(access));
}

void PluginLoader::set_isolation(IsolationConfig config, std::shared_ptr<IsolatedStarter> starter)
{
	isolation_ = std::move(config);
	isolated_starter_ = std::move(starter);
}

std::shared_ptr<HostedModule> load_plugin_descriptor(int fd, const std::filesystem::path &source, uint64_t generation,
                                                     const std::string &config, const LoadPolicy &policy)
{
	drpc_plugin_info info{};
	{
		const FileView view(fd);
		info = read_plugin_info(view.bytes());
		if (!policy.allow_full_protobuf)
			refuse_full_protobuf(view.bytes());
	}
	const std::filesystem::path mapped = "/proc/self/fd/" + std::to_string(fd);
	// The descriptor stays the caller's: nothing to remove when the module goes.
	return create_module(source, generation, info, mapped, RuntimeFile(), config, nullptr);
}

} // namespace drpc::host
