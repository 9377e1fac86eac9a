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
