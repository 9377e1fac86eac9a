// SPDX-License-Identifier: Apache-2.0
// The routing table: lock-free lookups for sessions, copy-on-write updates
// for writers, and draining of retired modules.
//
// How a retired module is known to be idle: a session increments the entry's
// in-flight count, then re-reads the registry version. A writer publishes the
// new table and bumps the version, then reads the in-flight count. Both sides
// use sequentially consistent operations, so either the session sees the new
// version (and backs off without touching the module) or the writer sees the
// session's call (and waits for it).
#include <drpc/error.hpp>
#include <drpc/module_registry.hpp>

#include <algorithm>
#include <cassert>
#include <thread>
#include <utility>

namespace drpc {

struct ModuleRegistry::Entry {
	int32_t id = 0;
	std::shared_ptr<Module> module; // reset once retired and drained
	std::shared_ptr<ModuleCounters> counters;
	std::atomic<uint64_t> in_flight{0};
	/// While true, calls wait: the module is being handed its state.
	std::atomic<bool> held{false};
};

struct ModuleRegistry::Table {
	// Sorted by id; small, so a binary search beats hashing.
	std::vector<std::shared_ptr<Entry>> entries;

	using Iterator = std::vector<std::shared_ptr<Entry>>::iterator;

	[[nodiscard]] Entry *find(int32_t id) const noexcept
	{
		auto it = std::lower_bound(entries.begin(), entries.end(), id,
		                           [](const std::shared_ptr<Entry> &e, int32_t key) { return e->id < key; });
		return it != entries.end() && (*it)->id == id ? it->get() : nullptr;
	}

	/// Where `id` is; throws Error naming `operation` when it is not there.
	Iterator at(int32_t id, const char *operation)
	{
		auto it = std::lower_bound(entries.begin(), entries.end(), id,
		                           [](const std::shared_ptr<Entry> &e, int32_t key) { return e->id < key; });
		if (it == entries.end() || (*it)->id != id)
			throw Error(std::string(operation) + " module " + std::to_string(id) +
			            ": no module is registered under that ID");
		return it;
	}

	void insert(std::shared_ptr<Entry> entry)
	{
		const int32_t id = entry->id;
		entries.insert(
			std::upper_bound(entries.begin(), entries.end(), id,
		                         [](int32_t key, const std::shared_ptr<Entry> &e) { return key < e->id; }),
			std::move(entry));
	}
};

ModuleRegistry::Lease::Lease(Lease &&other) noexcept
	: entry_(std::exchange(other.entry_, nullptr)), reader_(std::exchange(other.reader_, nullptr))
{
}

ModuleRegistry::Lease &ModuleRegistry::Lease::operator=(Lease &&other) noexcept
{
	if (this != &other) {
		drop();
		entry_ = std::exchange(other.entry_, nullptr);
		reader_ = std::exchange(other.reader_, nullptr);
	}
	return *this;
}

ModuleRegistry::Lease::~Lease() { drop(); }

void ModuleRegistry::Lease::drop() noexcept
{
	if (entry_ == nullptr)
		return;
	entry_->in_flight.fetch_sub(1);
	--reader_->leases_;
	entry_ = nullptr;
	reader_ = nullptr;
}

Module &ModuleRegistry::Lease::module() const noexcept { return *entry_->module; }

void ModuleRegistry::Lease::record(Status status) const noexcept
{
	entry_->counters->calls.fetch_add(1, std::memory_order_relaxed);
	if (status != Status::SUCCESS)
		entry_->counters->failures.fetch_add(1, std::memory_order_relaxed);
}

ModuleRegistry::Reader::~Reader() { assert(leases_ == 0 && "a ModuleRegistry::Lease outlived its Reader"); }

void ModuleRegistry::Reader::refresh(uint64_t version)
{
	if (leases_ != 0 && table_)
		kept_.push_back(std::move(table_)); // a lease may point into it
	else if (leases_ == 0)
		kept_.clear();
	table_ = registry_.current();
	version_ = version;
}

ModuleRegistry::Lease ModuleRegistry::Reader::acquire(int32_t id)
{
	for (;;) {
		const uint64_t version = registry_.version_.load();
		if (version != version_ || !table_)
			refresh(version);
		Entry *entry = table_->find(id);
		if (entry == nullptr)
			return {};
		entry->in_flight.fetch_add(1);
		// `held` before the version, not after: an abandoned handover
		// publishes the table without its entry (a new version) before it
		// releases `held`, so seeing the release here means seeing the new
		// version below and backing off; the other order could take a
		// lease on the abandoned entry whose module is being reset.
		if (entry->held.load()) {
			// A handover is under way: wait for it, then look again (the
			// table changes if it is abandoned).
			entry->in_flight.fetch_sub(1);
			entry->held.wait(true);
			continue;
		}
		if (registry_.version_.load() == version_) {
			++leases_;
			return Lease(entry, this);
		}
		// The table changed under us: this entry may be retired already.
		entry->in_flight.fetch_sub(1);
	}
}

void ModuleRegistry::Reader::release() noexcept
{
	if (leases_ != 0)
		return; // the next acquire() after the leases are gone refreshes anyway
	table_.reset();
	kept_.clear();
}

bool ModuleRegistry::Retired::wait_drained(std::chrono::steady_clock::time_point deadline)
{
	if (!wait_drained_keeping_module(deadline))
		return false;
	if (entry_) {
		// No call runs and none can start: drop the reference stale tables share.
		entry_->module.reset();
		entry_.reset();
	}
	return true;
}

bool ModuleRegistry::Retired::wait_drained_keeping_module(std::chrono::steady_clock::time_point deadline)
{
	if (!entry_)
		return true;
	auto pause = std::chrono::microseconds(50);
	while (entry_->in_flight.load() != 0) {
		if (std::chrono::steady_clock::now() >= deadline)
			return false;
		std::this_thread::sleep_for(pause);
		pause = std::min<std::chrono::microseconds>(pause * 2, std::chrono::milliseconds(5));
	}
	return true;
}

uint64_t ModuleRegistry::Retired::calls_in_flight() const noexcept { return entry_ ? entry_->in_flight.load() : 0; }

ModuleRegistry::ModuleRegistry() : table_(std::make_shared<const Table>()) {}
ModuleRegistry::~ModuleRegistry() = default;

std::shared_ptr<const ModuleRegistry::Table> ModuleRegistry::current() const
{
	const std::lock_guard lock(mutex_);
	return table_;
}

void ModuleRegistry::publish(std::shared_ptr<const Table> table)
{
	table_ = std::move(table);
	version_.fetch_add(1);
}

void ModuleRegistry::add(std::shared_ptr<Module> module)
{
	if (!module)
		throw Error("register module: null module");
	const int32_t id = module->id();
	const std::lock_guard writer(writer_mutex_);
	const std::lock_guard lock(mutex_);
	if (Entry *existing = table_->find(id))
		throw DuplicateModuleError("module ID " + std::to_string(id) + " is already registered (by " +
		                           existing->module->name() + ")");
	auto entry = std::make_shared<Entry>();
	entry->id = id;
	entry->module = std::move(module);
	entry->counters = std::make_shared<ModuleCounters>();
	auto table = std::make_shared<Table>(*table_);
	table->insert(std::move(entry));
	publish(std::move(table));
}

ModuleRegistry::Retired ModuleRegistry::replace(int32_t id, std::shared_ptr<Module> replacement)
{
	if (!replacement)
		throw Error("replace module " + std::to_string(id) + ": null module");
	const int32_t new_id = replacement->id();
	const std::lock_guard writer(writer_mutex_);
	const std::lock_guard lock(mutex_);
	auto table = std::make_shared<Table>(*table_);
	auto it = table->at(id, "replace");
	if (new_id != id && table->find(new_id) != nullptr)
		throw DuplicateModuleError("replace module " + std::to_string(id) +
		                           ": the new build claims module ID " + std::to_string(new_id) +
		                           ", which is already registered");
	Retired retired;
	retired.entry_ = *it;
	retired.module = (*it)->module;

	auto entry = std::make_shared<Entry>();
	entry->id = new_id;
	entry->module = std::move(replacement);
	entry->counters = new_id == id ? (*it)->counters : std::make_shared<ModuleCounters>();
	table->entries.erase(it);
	table->insert(std::move(entry));
	publish(std::move(table));
	return retired;
}

ModuleRegistry::Retired ModuleRegistry::remove(int32_t id)
{
	const std::lock_guard writer(writer_mutex_);
	const std::lock_guard lock(mutex_);
	auto table = std::make_shared<Table>(*table_);
	auto it = table->at(id, "remove");
	Retired retired;
	retired.entry_ = *it;
	retired.module = (*it)->module;
	table->entries.erase(it);
	publish(std::move(table));
	return retired;
}

std::shared_ptr<ModuleRegistry::Entry> ModuleRegistry::swap_entry(int32_t id, std::shared_ptr<Entry> entry)
{
	const std::lock_guard lock(mutex_);
	auto table = std::make_shared<Table>(*table_);
	auto it = table->at(id, "replace");
	std::shared_ptr<Entry> previous = std::exchange(*it, std::move(entry));
	publish(std::move(table));
	return previous;
}

ModuleRegistry::Retired ModuleRegistry::replace_handing_over(int32_t id, std::shared_ptr<Module> replacement,
                                                             const Handover &handover,
                                                             std::chrono::steady_clock::time_point deadline)
{
	if (!replacement)
		throw Error("replace module " + std::to_string(id) + ": null module");
	if (replacement->id() != id)
		throw Error("replace module " + std::to_string(id) +
		            ": a build that hands its state over must keep the ID (it claims " +
		            std::to_string(replacement->id()) + ")");
	const std::lock_guard writer(writer_mutex_);

	// Kept by us too: after a revert the table no longer owns it.
	const auto held = std::make_shared<Entry>();
	held->id = id;
	held->module = std::move(replacement);
	held->held.store(true);
	{
		const std::lock_guard lock(mutex_);
		Entry *current = table_->find(id);
		if (current == nullptr)
			throw Error("replace module " + std::to_string(id) + ": no module is registered under that ID");
		held->counters = current->counters;
	}
	const std::shared_ptr<Entry> previous = swap_entry(id, held);

	Retired retired;
	retired.entry_ = previous;
	retired.module = previous->module;
	const auto release_waiters = [&held] {
		held->held.store(false); // after any revert's publish(): see Reader::acquire
		held->held.notify_all();
	};
	try {
		if (!retired.wait_drained_keeping_module(deadline))
			throw Error("replace module " + std::to_string(id) + ": " +
			            std::to_string(retired.calls_in_flight()) +
			            " call(s) still running at the deadline; the old module keeps serving");
		handover(*previous->module, *held->module);
	} catch (...) {
		// Put the old module back; the calls that waited go to it. The
		// replacement never served, so stale tables may not keep it alive.
		(void)swap_entry(id, previous);
		release_waiters();
		held->module.reset();
		throw;
	}
	release_waiters();
	(void)retired.wait_drained(deadline);
	return retired;
}

std::shared_ptr<Module> ModuleRegistry::find(int32_t id) const
{
	const std::lock_guard lock(mutex_);
	Entry *entry = table_->find(id);
	return entry != nullptr ? entry->module : nullptr;
}

std::shared_ptr<const ModuleCounters> ModuleRegistry::counters(int32_t id) const
{
	const std::lock_guard lock(mutex_);
	Entry *entry = table_->find(id);
	return entry != nullptr ? entry->counters : nullptr;
}

bool ModuleRegistry::contains(int32_t id) const { return find(id) != nullptr; }

std::vector<ModuleRegistry::Listing> ModuleRegistry::list() const
{
	const std::lock_guard lock(mutex_);
	std::vector<Listing> listing;
	listing.reserve(table_->entries.size());
	for (const auto &entry : table_->entries)
		listing.push_back({entry->module, entry->counters});
	return listing;
}

} // namespace drpc
