// SPDX-License-Identifier: Apache-2.0
// ModuleRegistry: the table, replacement and removal, counters, draining of
// retired modules, and leases racing replacements.
#include <drpc/error.hpp>
#include <drpc/module_registry.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using drpc::ModuleRegistry;
using namespace std::chrono_literals;

/// A module that knows whether it is still alive: its destructor clears a
/// flag the test owns, so a call on a destroyed module is seen even without
/// ASan.
class TestModule : public drpc::Module {
public:
	explicit TestModule(int32_t id, std::string name = "test", std::atomic<bool> *alive = nullptr)
		: id_(id), name_(std::move(name)), alive_(alive)
	{
		if (alive_ != nullptr)
			alive_->store(true);
	}
	~TestModule() override
	{
		if (alive_ != nullptr)
			alive_->store(false);
	}
	int32_t id() const noexcept override { return id_; }
	std::string name() const override { return name_; }
	drpc::Status handle_call(const drpc::CallContext &, std::span<const uint8_t>, drpc::ResponseBody &) override
	{
		return drpc::Status::SUCCESS;
	}
	[[nodiscard]] bool alive() const noexcept { return alive_ == nullptr || alive_->load(); }

private:
	int32_t id_;
	std::string name_;
	std::atomic<bool> *alive_;
};

std::shared_ptr<TestModule> module(int32_t id, std::string name = "test")
{
	return std::make_shared<TestModule>(id, std::move(name));
}

std::vector<int32_t> ids(const ModuleRegistry &registry)
{
	std::vector<int32_t> out;
	for (const auto &listing : registry.list())
		out.push_back(listing.module->id());
	return out;
}

const drpc::ModuleCounters &counters(const ModuleRegistry &registry, int32_t id)
{
	for (const auto &listing : registry.list())
		if (listing.module->id() == id)
			return *listing.counters;
	FAIL("no module " << id);
	throw std::logic_error("unreachable");
}

template <class E, class F> std::string thrown(F &&f)
{
	try {
		f();
	} catch (const E &e) {
		return e.what();
	}
	FAIL_CHECK("nothing thrown");
	return {};
}

bool contains(const std::string &text, const std::string &part) { return text.find(part) != std::string::npos; }

auto soon() { return std::chrono::steady_clock::now() + 10s; }

} // namespace

TEST_CASE("module registry: add, find, contains, list by ascending ID")
{
	ModuleRegistry registry;
	CHECK(registry.list().empty());
	CHECK_FALSE(registry.contains(0));
	CHECK(registry.find(0) == nullptr);

	const auto a = module(5), b = module(-3), c = module(100), d = module(0);
	for (const auto &m : {a, b, c, d})
		registry.add(m);
	CHECK(ids(registry) == std::vector<int32_t>{-3, 0, 5, 100});
	CHECK(registry.find(5) == a);
	CHECK(registry.find(-3) == b);
	CHECK(registry.find(0) == d);
	CHECK(registry.contains(100));
	CHECK_FALSE(registry.contains(6));
	CHECK(registry.find(6) == nullptr);
	for (const auto &listing : registry.list()) {
		REQUIRE(listing.counters);
		CHECK(listing.counters->calls == 0);
	}
}

TEST_CASE("module registry: a taken ID is refused, naming it")
{
	ModuleRegistry registry;
	registry.add(module(42, "first"));
	const std::string what = thrown<drpc::DuplicateModuleError>([&] { registry.add(module(42, "second")); });
	CHECK_MESSAGE(contains(what, "42"), what);
	CHECK_MESSAGE(contains(what, "first"), what);
	CHECK(registry.find(42)->name() == "first");
	CHECK(registry.list().size() == 1);

	CHECK_THROWS_AS(registry.add(nullptr), drpc::Error);
}

TEST_CASE("module registry: replace and remove")
{
	ModuleRegistry registry;
	const auto old_module = module(1, "old"), other = module(2, "other");
	registry.add(old_module);
	registry.add(other);

	SUBCASE("same ID")
	{
		const auto replacement = module(1, "new");
		auto retired = registry.replace(1, replacement);
		CHECK(retired.module == old_module);
		CHECK(registry.find(1) == replacement);
		CHECK(ids(registry) == std::vector<int32_t>{1, 2});
		CHECK(retired.wait_drained(soon()));
	}
	SUBCASE("new ID")
	{
		const auto replacement = module(7, "moved");
		auto retired = registry.replace(1, replacement);
		CHECK(retired.module == old_module);
		CHECK_FALSE(registry.contains(1));
		CHECK(registry.find(7) == replacement);
		CHECK(ids(registry) == std::vector<int32_t>{2, 7});
	}
	SUBCASE("new ID taken: refused, table unchanged")
	{
		const std::string what =
			thrown<drpc::DuplicateModuleError>([&] { (void)registry.replace(1, module(2, "clash")); });
		CHECK_MESSAGE(contains(what, "2"), what);
		CHECK(registry.find(1) == old_module);
		CHECK(registry.find(2) == other);
		CHECK(ids(registry) == std::vector<int32_t>{1, 2});
	}
	SUBCASE("missing ID: refused")
	{
		const std::string what = thrown<drpc::Error>([&] { (void)registry.replace(9, module(9)); });
		CHECK_MESSAGE(contains(what, "9"), what);
		CHECK_FALSE(registry.contains(9));
		CHECK(ids(registry) == std::vector<int32_t>{1, 2});
	}
	SUBCASE("null replacement: refused")
	{
		CHECK_THROWS_AS((void)registry.replace(1, nullptr), drpc::Error);
		CHECK(registry.find(1) == old_module);
	}
	SUBCASE("remove")
	{
		auto retired = registry.remove(1);
		CHECK(retired.module == old_module);
		CHECK_FALSE(registry.contains(1));
		CHECK(ids(registry) == std::vector<int32_t>{2});
		CHECK(retired.wait_drained(soon()));
		const std::string what = thrown<drpc::Error>([&] { (void)registry.remove(1); });
		CHECK_MESSAGE(contains(what, "1"), what);
		// and the ID is free again
		registry.add(module(1, "again"));
		CHECK(registry.find(1)->name() == "again");
	}
}

TEST_CASE("module registry: counters carry over a same-ID replacement only")
{
	ModuleRegistry registry;
	registry.add(module(1));
	registry.add(module(2));
	{
		ModuleRegistry::Reader reader(registry);
		const auto lease = reader.acquire(1);
		REQUIRE(lease);
		lease.record(drpc::Status::SUCCESS);
		lease.record(drpc::Status::FAILURE);
		lease.record(drpc::Status::UNKNOWN_METHOD);
		const auto other = reader.acquire(2);
		REQUIRE(other);
		other.record(drpc::Status::SUCCESS);
	}
	CHECK(counters(registry, 1).calls == 3);
	CHECK(counters(registry, 1).failures == 2);

	auto retired = registry.replace(1, module(1, "new"));
	CHECK(retired.wait_drained(soon()));
	CHECK(counters(registry, 1).calls == 3);
	CHECK(counters(registry, 1).failures == 2);
	{
		ModuleRegistry::Reader reader(registry);
		reader.acquire(1).record(drpc::Status::SUCCESS);
	}
	CHECK(counters(registry, 1).calls == 4);

	auto moved = registry.replace(2, module(3));
	CHECK(moved.wait_drained(soon()));
	CHECK(counters(registry, 3).calls == 0);
	CHECK(counters(registry, 3).failures == 0);
}

TEST_CASE("module registry: a Reader sees every change")
{
	ModuleRegistry registry;
	ModuleRegistry::Reader reader(registry);
	CHECK_FALSE(reader.acquire(1));

	const auto a = module(1, "a");
	registry.add(a);
	{
		const auto lease = reader.acquire(1);
		REQUIRE(lease);
		CHECK(&lease.module() == a.get());
	}
	const auto b = module(1, "b");
	auto retired_a = registry.replace(1, b);
	{
		const auto lease = reader.acquire(1);
		REQUIRE(lease);
		CHECK(&lease.module() == b.get());
	}
	auto retired_b = registry.remove(1);
	CHECK_FALSE(reader.acquire(1));
	registry.add(module(1, "c"));
	{
		const auto lease = reader.acquire(1);
		REQUIRE(lease);
		CHECK(lease.module().name() == "c");
	}
	CHECK(retired_a.wait_drained(soon()));
	CHECK(retired_b.wait_drained(soon()));
}

TEST_CASE("module registry: leases count calls in flight and move")
{
	ModuleRegistry registry;
	registry.add(module(1));
	ModuleRegistry::Reader reader(registry);
	ModuleRegistry::Lease first = reader.acquire(1);
	ModuleRegistry::Lease second = reader.acquire(1);
	auto retired = registry.remove(1);
	CHECK(retired.calls_in_flight() == 2);

	ModuleRegistry::Lease moved = std::move(first);
	CHECK_FALSE(first); // NOLINT(bugprone-use-after-move): a moved-from lease is empty by contract
	CHECK(moved);
	CHECK(retired.calls_in_flight() == 2);
	moved = std::move(second); // releases what `moved` held
	CHECK(retired.calls_in_flight() == 1);
	moved = {};
	CHECK(retired.calls_in_flight() == 0);
	CHECK(retired.wait_drained(soon()));
	CHECK(retired.calls_in_flight() == 0);
	CHECK(ModuleRegistry::Retired{}.wait_drained(soon()));
}

TEST_CASE("module registry: a retired module drains, then nothing holds it")
{
	ModuleRegistry registry;
	auto original = module(1);
	const std::weak_ptr<TestModule> watch = original;
	registry.add(original);
	registry.add(module(2));

	ModuleRegistry::Reader busy(registry);
	ModuleRegistry::Reader idle(registry);
	auto lease = busy.acquire(1);
	REQUIRE(lease);
	// An idle session keeps the table it last used cached.
	(void)idle.acquire(2);

	auto retired = registry.replace(1, module(1, "new"));
	CHECK(retired.calls_in_flight() == 1);
	CHECK_FALSE(retired.wait_drained(std::chrono::steady_clock::now() + 20ms));
	CHECK_FALSE(retired.wait_drained(std::chrono::steady_clock::now() - 1s));
	// the call in flight still runs on the old module
	CHECK(&lease.module() == original.get());

	lease = {};
	CHECK(retired.wait_drained(soon()));
	original.reset();
	retired.module.reset();
	CHECK_MESSAGE(watch.expired(), "the registry or a reader still references the retired module");
	// the readers still work
	CHECK(busy.acquire(1).module().name() == "new");
	CHECK(idle.acquire(2));
}

TEST_CASE("module registry: leases racing 500 replacements never see a destroyed module")
{
	constexpr int replacements = 500;
	constexpr int threads = 4;
	// Declared first: the registry's last module clears its flag when destroyed.
	std::vector<std::atomic<bool>> alive(replacements + 1);
	ModuleRegistry registry;
	registry.add(std::make_shared<TestModule>(1, "v0", &alive[0]));

	std::atomic<bool> stop{false};
	std::atomic<int> ready{0};
	std::atomic<uint64_t> leases{0}, dead_seen{0}, empty{0};
	std::vector<std::thread> workers;
	for (int t = 0; t < threads; ++t) {
		workers.emplace_back([&] {
			ModuleRegistry::Reader reader(registry);
			bool counted = false;
			// Bounded even if the main thread stops early.
			for (int i = 0; i < 50'000'000 && !stop.load(); ++i) {
				const auto lease = reader.acquire(1);
				if (!lease) {
					empty.fetch_add(1);
					continue;
				}
				const auto &m = static_cast<const TestModule &>(lease.module());
				if (!m.alive())
					dead_seen.fetch_add(1);
				std::this_thread::yield(); // hold the lease across a likely swap
				if (!m.alive())
					dead_seen.fetch_add(1);
				lease.record(drpc::Status::SUCCESS);
				leases.fetch_add(1);
				if (!counted) {
					ready.fetch_add(1);
					counted = true;
				}
			}
			reader.release();
		});
	}

	// Progress, not speed, is awaited: the deadline only guards against a hang.
	const auto eventually = [](const auto &condition) {
		const auto deadline = soon();
		while (!condition()) {
			if (std::chrono::steady_clock::now() > deadline)
				return false;
			std::this_thread::yield();
		}
		return true;
	};
	CHECK(eventually([&] { return ready.load() == threads; }));
	int drained = 0, overlapped = 0;
	for (int i = 1; i <= replacements; ++i) {
		const uint64_t before = leases.load();
		auto retired = registry.replace(1, std::make_shared<TestModule>(1, "v" + std::to_string(i), &alive[i]));
		if (retired.wait_drained(soon()))
			++drained;
		// Destroy the retired module at once, as a host unloading its code would.
		retired.module.reset();
		CHECK_MESSAGE(!alive[i - 1].load(), "module v" << i - 1 << " outlived its retirement");
		// Let calls run on the new module before it is replaced in turn.
		if (eventually([&] { return leases.load() > before + threads; }))
			++overlapped;
	}
	stop.store(true);
	for (auto &w : workers)
		w.join();

	CHECK(drained == replacements);
	CHECK(overlapped == replacements);
	CHECK(dead_seen == 0);
	CHECK(empty == 0);
	CHECK(counters(registry, 1).calls == leases.load());
}
