// SPDX-License-Identifier: Apache-2.0
// ModuleRegistry::replace_handing_over: calls wait while state moves from
// the old module to the new one, and nothing is lost or run twice.
#include "test_support.hpp"

#include <drpc/error.hpp>
#include <drpc/module_registry.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace {

using namespace std::chrono_literals;

/// A counter module: every call adds one; its total is its state.
class Counter : public drpc::Module {
public:
	explicit Counter(int generation) : generation(generation) {}
	int32_t id() const noexcept override { return 7; }
	drpc::Status handle_call(const drpc::CallContext &, std::span<const uint8_t>, drpc::ResponseBody &) override
	{
		if (retired.load())
			misrouted.fetch_add(1);
		count.fetch_add(1);
		return drpc::Status::SUCCESS;
	}
	const int generation;
	std::atomic<uint64_t> count{0};
	std::atomic<bool> retired{false};
	static inline std::atomic<uint64_t> misrouted{0};
};

class NullBody : public drpc::ResponseBody {
public:
	std::span<uint8_t> reserve(size_t) noexcept override { return {}; }
};

uint64_t call(drpc::ModuleRegistry::Reader &reader)
{
	drpc::ModuleRegistry::Lease lease = reader.acquire(7);
	REQUIRE(lease);
	NullBody body;
	(void)lease.module().handle_call({}, {}, body);
	return static_cast<Counter &>(lease.module()).generation;
}

} // namespace

TEST_CASE("state handed over under load: every call counted exactly once, none on a retired module")
{
	drpc::ModuleRegistry registry;
	auto first = std::make_shared<Counter>(0);
	registry.add(first);
	Counter::misrouted = 0;

	std::atomic<bool> stop{false};
	std::atomic<uint64_t> calls{0};
	std::vector<std::thread> callers;
	for (int t = 0; t < 4; ++t) {
		callers.emplace_back([&] {
			drpc::ModuleRegistry::Reader reader(registry);
			for (int i = 0; i < 200000 && !stop.load(); ++i) {
				(void)call(reader);
				calls.fetch_add(1);
			}
		});
	}
	std::shared_ptr<Counter> current = first;
	for (int generation = 1; generation <= 50; ++generation) {
		auto next = std::make_shared<Counter>(generation);
		auto retired = registry.replace_handing_over(
			7, next,
			[](drpc::Module &old_module, drpc::Module &replacement) {
				auto &from = static_cast<Counter &>(old_module);
				from.retired = true;
				static_cast<Counter &>(replacement).count = from.count.load();
			},
			std::chrono::steady_clock::now() + 10s);
		CHECK(retired.calls_in_flight() == 0);
		current = next;
	}
	stop = true;
	for (auto &caller : callers)
		caller.join();
	CHECK(Counter::misrouted == 0);
	CHECK(current->count == calls.load());
}

TEST_CASE("a failed handover puts the old module back")
{
	drpc::ModuleRegistry registry;
	auto old_module = std::make_shared<Counter>(0);
	registry.add(old_module);
	drpc::ModuleRegistry::Reader reader(registry);
	CHECK(call(reader) == 0);

	SUBCASE("the handover throws")
	{
		CHECK_THROWS_WITH(
			registry.replace_handing_over(
				7, std::make_shared<Counter>(1),
				[](drpc::Module &, drpc::Module &) { throw std::runtime_error("import failed"); },
				std::chrono::steady_clock::now() + 10s),
			"import failed");
	}
	SUBCASE("the old module does not drain in time")
	{
		auto lease = reader.acquire(7);
		drpc::ModuleRegistry::Reader other(registry);
		std::atomic<bool> handed{false};
		CHECK_THROWS_AS(registry.replace_handing_over(
					7, std::make_shared<Counter>(1),
					[&](drpc::Module &, drpc::Module &) { handed = true; },
					std::chrono::steady_clock::now() + 20ms),
		                drpc::Error);
		CHECK_FALSE(handed.load());
	}
	CHECK(call(reader) == 0);
	CHECK(registry.find(7) == old_module);
}

TEST_CASE("a handover must keep the module ID")
{
	drpc::ModuleRegistry registry;
	registry.add(std::make_shared<Counter>(0));
	auto other_id = std::make_shared<test::EchoModule>(8);
	CHECK_THROWS_AS(
		registry.replace_handing_over(
			7, other_id, [](drpc::Module &, drpc::Module &) {}, std::chrono::steady_clock::now() + 1s),
		drpc::Error);
	CHECK(registry.contains(7));
	CHECK_FALSE(registry.contains(8));
}

namespace {

/// The state a handover fails to take: the old build counts calls, and a
/// replacement whose import threw must never be called (that call would be
/// a lost update) nor be reached after it was reset (a null dereference).
class Tally : public drpc::Module {
public:
	explicit Tally(bool abandoned) : abandoned(abandoned) {}
	int32_t id() const noexcept override { return 7; }
	drpc::Status handle_call(const drpc::CallContext &, std::span<const uint8_t>, drpc::ResponseBody &) override
	{
		(abandoned ? lost : count).fetch_add(1);
		return drpc::Status::SUCCESS;
	}
	const bool abandoned;
	std::atomic<uint64_t> count{0};
	static inline std::atomic<uint64_t> lost{0};
};

} // namespace

TEST_CASE("an import that throws while 8 connections call: every call reaches the old module")
{
	drpc::ModuleRegistry registry;
	auto old_module = std::make_shared<Tally>(false);
	registry.add(old_module);
	Tally::lost = 0;

	std::atomic<bool> stop{false};
	std::atomic<uint64_t> calls{0};
	std::vector<std::thread> callers;
	for (int t = 0; t < 8; ++t) {
		callers.emplace_back([&] {
			drpc::ModuleRegistry::Reader reader(registry);
			NullBody body;
			while (!stop.load(std::memory_order_relaxed)) {
				drpc::ModuleRegistry::Lease lease = reader.acquire(7);
				if (!lease)
					continue; // counted by the check below: calls != count
				(void)lease.module().handle_call({}, {}, body);
				calls.fetch_add(1, std::memory_order_relaxed);
			}
		});
	}
	int failed_imports = 0;
	for (int attempt = 0; attempt < 2000; ++attempt) {
		try {
			(void)registry.replace_handing_over(
				7, std::make_shared<Tally>(true),
				[](drpc::Module &, drpc::Module &) { throw std::runtime_error("import failed"); },
				std::chrono::steady_clock::now() + 10s);
		} catch (const std::runtime_error &) {
			++failed_imports;
		}
	}
	stop = true;
	for (auto &caller : callers)
		caller.join();
	CHECK(failed_imports == 2000);
	CHECK(Tally::lost.load() == 0);
	CHECK(old_module->count.load() == calls.load());
	CHECK(registry.find(7) == old_module);
}
