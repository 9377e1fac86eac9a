// SPDX-License-Identifier: Apache-2.0
// Loading one plugin file, every check in the order that keeps a bad
// plugin's code from running.
#include "plugin_loader.hpp"

#include "plugin_info.hpp"

#include <drpc/error.hpp>
#include <drpc/log.hpp>

#include <dlfcn.h>
#include <sys/mman.h>
#include <sys/stat.h>

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
	if (plugin->struct_size < sizeof(drpc_plugin))
		throw drpc::Error("descriptor is " + std::to_string(plugin->struct_size) + " bytes, the host needs " +
		                  std::to_string(sizeof(drpc_plugin)));
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

LoadResult PluginLoader::load(const PluginDirectory &directory, std::string_view name, const Admission &admit)
{
	LoadResult result;
	result.source = directory.path() / name;
	{
		const std::lock_guard lock(generations_mutex_);
		auto it = generations_.find(name);
		if (it == generations_.end())
			it = generations_.emplace(std::string(name), 0).first;
		result.generation = ++it->second;
	}
	try {
		RuntimeFile copy = directory.copy_plugin(name, runtime_, result.generation);
		{
			const FileView view(copy.fd());
			result.info = read_plugin_info(view.bytes());
		}
		copy.close();
		if (admit) {
			if (auto refusal = admit(*result.info)) {
				result.error = std::move(*refusal);
				return result;
			}
		}
		result.module = map_and_create(result, std::move(copy));
	} catch (const std::exception &e) {
		result.error = e.what();
	}
	return result;
}

std::shared_ptr<PluginModule> PluginLoader::map_and_create(LoadResult &result, RuntimeFile copy)
{
	const drpc_plugin_info &info = *result.info;
	boost::dll::shared_library library = map_library(copy.path());
	if (!library.has(DRPC_PLUGIN_ENTRY_SYMBOL))
		throw drpc::Error("no " DRPC_PLUGIN_ENTRY_SYMBOL " symbol");
	const auto entry = library.get<const drpc_plugin *()>(DRPC_PLUGIN_ENTRY_SYMBOL);
	const drpc_plugin *plugin = entry();
	check_descriptor(plugin, info);

	const std::string config = module_config(info.name);
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
		.source = result.source,
		.generation = result.generation,
		.copy = std::move(copy),
		.library = std::move(library),
		.plugin = plugin,
		.info = info,
		.instance = instance,
		.access = nullptr,
	};
	if (const auto access = access_.find(std::string_view(info.name)); access != access_.end())
		loaded.access = access->second;
	try {
		return std::make_shared<PluginModule>(std::move(loaded));
	} catch (...) {
		plugin->destroy(instance); // make_shared failed before taking `loaded` over
		throw;
	}
}

} // namespace drpc::host
