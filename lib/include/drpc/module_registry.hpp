// SPDX-License-Identifier: Apache-2.0
/// @file drpc/module_registry.hpp
/// The table a server routes calls through, changeable while it serves.
///
/// Reading is lock-free: each session keeps a Reader that caches the current
/// table and revalidates it with one atomic load per call. Writers (add,
/// replace, remove) take a mutex, publish a new table and bump a version.
/// A replaced or removed module is "retired": calls already running on it
/// finish, calls arriving after the swap go to the new table, and the caller
/// learns through Retired when the last running call has returned, which is
/// the moment it may destroy the module (and unload its code).
#pragma once

#include <drpc/module.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace drpc {

/// Calls answered by one module ID, across every module registered under it.
struct ModuleCounters {
	std::atomic<uint64_t> calls{0};
	std::atomic<uint64_t> failures{0}; ///< answered with a status other than SUCCESS
};

class ModuleRegistry {
	struct Entry;
	struct Table;

public:
	class Reader;

	/// One module held for the length of one call; it cannot be retired
	/// from under the call while the lease lives.
	///
	/// A lease points into the table its Reader cached, without a reference
	/// count of its own (the call path stays free of shared atomics). What
	/// keeps that safe: the Reader keeps every table it handed a lease from
	/// until that lease is gone, whatever acquire() or release() is called
	/// meanwhile. So the one rule is that a lease must not outlive its
	/// Reader (checked in debug builds when the Reader is destroyed).
	class Lease {
	public:
		Lease() noexcept = default;
		Lease(Lease &&other) noexcept;
		Lease &operator=(Lease &&other) noexcept;
		Lease(const Lease &) = delete;
		Lease &operator=(const Lease &) = delete;
		~Lease();

		explicit operator bool() const noexcept { return entry_ != nullptr; }
		[[nodiscard]] Module &module() const noexcept;
		/// Counts the call and whether it failed.
		void record(Status status) const noexcept;

	private:
		friend class ModuleRegistry;
		Lease(Entry *entry, Reader *reader) noexcept : entry_(entry), reader_(reader) {}
		void drop() noexcept;
		Entry *entry_ = nullptr;
		Reader *reader_ = nullptr;
	};

	/// A session's view of the registry. Not thread-safe: one per thread.
	/// Its leases must be gone before it is destroyed.
	class Reader {
	public:
		explicit Reader(const ModuleRegistry &registry) noexcept : registry_(registry) {}
		~Reader();
		Reader(const Reader &) = delete;
		Reader &operator=(const Reader &) = delete;
		/// The module registered under `id`, or an empty lease.
		[[nodiscard]] Lease acquire(int32_t id);
		/// Drops the cached table so that retired modules are not kept
		/// alive by an idle session (deferred while a lease is out).
		void release() noexcept;

	private:
		friend class Lease;
		void refresh(uint64_t version);

		const ModuleRegistry &registry_;
		std::shared_ptr<const Table> table_;
		uint64_t version_ = 0;
		/// Leases out, and the older tables they may point into.
		uint32_t leases_ = 0;
		std::vector<std::shared_ptr<const Table>> kept_;
	};

	/// A module taken out of the table by replace() or remove().
	class Retired {
	public:
		Retired() = default;
		/// True once no call runs on the module; false if `deadline` came
		/// first (calls still running). When it returns true the registry has
		/// dropped its last reference, so destroying `module` is safe.
		bool wait_drained(std::chrono::steady_clock::time_point deadline);
		[[nodiscard]] uint64_t calls_in_flight() const noexcept;
		/// The module itself; null after a default construction.
		std::shared_ptr<Module> module;

	private:
		friend class ModuleRegistry;
		bool wait_drained_keeping_module(std::chrono::steady_clock::time_point deadline);
		std::shared_ptr<Entry> entry_;
	};

	struct Listing {
		std::shared_ptr<Module> module;
		std::shared_ptr<const ModuleCounters> counters;
	};

	ModuleRegistry();
	~ModuleRegistry();
	ModuleRegistry(const ModuleRegistry &) = delete;
	ModuleRegistry &operator=(const ModuleRegistry &) = delete;

	/// Registers `module` under module->id(); throws DuplicateModuleError
	/// naming the ID when it is taken.
	void add(std::shared_ptr<Module> module);

	/// Puts `replacement` in the place of the module registered under `id`
	/// in one atomic step. The replacement may have another ID, which must
	/// be free. Counters carry over when the ID is unchanged. Throws
	/// DuplicateModuleError, or Error when nothing is registered under `id`.
	Retired replace(int32_t id, std::shared_ptr<Module> replacement);

	/// Called by replace_handing_over() once no call runs on `old_module`
	/// and before `replacement` serves: typically moves state from one to
	/// the other. Throwing cancels the replacement.
	using Handover = std::function<void(Module &old_module, Module &replacement)>;

	/// Like replace(), for modules that hand state over: calls to `id` that
	/// arrive meanwhile wait, the old module drains, `handover` runs, and
	/// only then does the replacement serve. No call can run on the old
	/// module after its state was taken, so no update is lost. If the old
	/// module does not drain by `deadline`, or `handover` throws, the old
	/// module is put back and serves on, the waiting calls go to it, and
	/// Error (or the handover's exception) is thrown. Other modules' calls
	/// never wait. The returned Retired is already drained.
	Retired replace_handing_over(int32_t id, std::shared_ptr<Module> replacement, const Handover &handover,
	                             std::chrono::steady_clock::time_point deadline);

	/// Takes the module under `id` out; throws Error when there is none.
	Retired remove(int32_t id);

	[[nodiscard]] std::shared_ptr<Module> find(int32_t id) const;
	/// The counters of module `id` (shared with every later module under
	/// the same ID), or null when nothing is registered under it.
	[[nodiscard]] std::shared_ptr<const ModuleCounters> counters(int32_t id) const;
	[[nodiscard]] bool contains(int32_t id) const;
	/// Every registered module, by ascending ID.
	[[nodiscard]] std::vector<Listing> list() const;

private:
	std::shared_ptr<const Table> current() const;
	void publish(std::shared_ptr<const Table> table); // with mutex_ held

	std::shared_ptr<Entry> swap_entry(int32_t id, std::shared_ptr<Entry> entry); // takes mutex_

	std::mutex writer_mutex_; // one change at a time; never held by readers
	mutable std::mutex mutex_;
	std::shared_ptr<const Table> table_; // guarded by mutex_
	std::atomic<uint64_t> version_{1};
};

} // namespace drpc
