// SPDX-License-Identifier: Apache-2.0
// The lifecycle's parts put together, in the order they are torn down.
#include <drpc/lifecycle/lifecycle.hpp>

#include "isolated_starter.hpp"
#include "plugin_file.hpp"
#include "plugin_loader.hpp"
#include "plugin_manager.hpp"
#include "plugin_watcher.hpp"
#include "runtime_dir.hpp"

#include <algorithm>

namespace drpc::host {
namespace {

/// How often handle_events() is wanted while a drain outlives its deadline.
constexpr std::chrono::milliseconds drain_poll{100};

} // namespace

/// Declared in the order of construction, so destroyed in reverse: the
/// watcher first, then the manager unloads every plugin, while the loader,
/// the plugins directory and the runtime directory holding the copies still
/// exist; the runtime directory goes last.
struct Lifecycle::Parts {
	Parts(LifecycleOptions &options, drpc::ModuleRegistry &registry)
		: runtime(options.runtime_dir, options.strict_permissions),
		  loader(runtime, std::move(options.module_configs)),
		  directory(options.plugins_dir, options.strict_permissions, options.max_file_bytes),
		  manager(loader, directory, registry, options.drain_timeout),
		  watcher(options.watch ? std::make_unique<PluginWatcher>(directory.path()) : nullptr)
	{
		loader.set_access_lists(options.access);
		loader.set_isolation(std::move(options.isolation), std::move(options.isolated_starter));
	}

	RuntimeDir runtime;
	PluginLoader loader;
	PluginDirectory directory;
	PluginManager manager;
	std::unique_ptr<PluginWatcher> watcher;
};

Lifecycle::Lifecycle(LifecycleOptions options, drpc::ModuleRegistry &registry)
	: parts_(std::make_unique<Parts>(options, registry))
{
}

Lifecycle::~Lifecycle() = default;

void Lifecycle::load_all() { parts_->manager.load_all(); }
ModuleOperation Lifecycle::load(std::string_view path) { return parts_->manager.load(path); }
ModuleOperation Lifecycle::unload(int32_t id) { return parts_->manager.unload(id); }
ModuleOperation Lifecycle::reload(int32_t id) { return parts_->manager.reload(id); }
void Lifecycle::rescan() { parts_->manager.rescan(); }
std::vector<ModuleRecord> Lifecycle::list() const { return parts_->manager.list(); }
std::vector<ModuleRecord> Lifecycle::failures() const { return parts_->manager.failures(); }
size_t Lifecycle::size() const { return parts_->manager.size(); }
size_t Lifecycle::stop_workers() noexcept { return parts_->manager.stop_workers(); }

void Lifecycle::release_idle_memory() noexcept { parts_->manager.release_idle_memory(); }

int Lifecycle::watch_fd() const noexcept { return parts_->watcher ? parts_->watcher->fd() : -1; }

std::optional<std::chrono::milliseconds> Lifecycle::next_due() const
{
	std::optional<std::chrono::milliseconds> due;
	if (parts_->watcher)
		due = parts_->watcher->next_due();
	if (parts_->manager.has_draining())
		due = due ? std::min(*due, drain_poll) : drain_poll;
	return due;
}

bool Lifecycle::handle_events(bool watch_readable)
{
	bool acted = false;
	if (parts_->watcher) {
		if (watch_readable)
			parts_->watcher->read_events();
		for (const PluginFileEvent &event : parts_->watcher->take_settled()) {
			if (event.kind == PluginFileEvent::Kind::removed)
				parts_->manager.file_removed(event.name);
			else
				parts_->manager.file_changed(event.name);
			acted = true;
		}
	}
	if (parts_->manager.has_draining())
		parts_->manager.collect();
	return acted;
}

const std::filesystem::path &Lifecycle::plugins_dir() const noexcept { return parts_->directory.path(); }
const std::filesystem::path &Lifecycle::runtime_dir() const noexcept { return parts_->runtime.path(); }

} // namespace drpc::host
