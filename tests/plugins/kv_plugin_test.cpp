// SPDX-License-Identifier: Apache-2.0
// kv.so through the C ABI: its methods, its limits and config, the state
// handoff of a reload, and calls from several threads at once.

#include "plugin_support.hpp"

#include "kv.pb.h"

#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

using plugin_test::Answer;
using plugin_test::Instance;
using plugin_test::Library;

namespace {

enum Method : int32_t { put_method = 0, get_method = 1, delete_method = 2, list_method = 3 };

/// Typed calls to a kv instance; a non-SUCCESS status fails the check here.
class Kv {
public:
	explicit Kv(const Instance &instance) : instance_(instance) {}

	int32_t put_status(const std::string &key, const std::string &value) const
	{
		kv::PutRequest request;
		request.set_key(key);
		request.set_value(value);
		return instance_.call(put_method, request.SerializeAsString()).status;
	}

	bool put(const std::string &key, const std::string &value) const
	{
		kv::PutRequest request;
		request.set_key(key);
		request.set_value(value);
		return answer<kv::PutResponse>(put_method, request).replaced();
	}

	kv::GetResponse get(const std::string &key) const
	{
		kv::GetRequest request;
		request.set_key(key);
		return answer<kv::GetResponse>(get_method, request);
	}

	bool erase(const std::string &key) const
	{
		kv::DeleteRequest request;
		request.set_key(key);
		return answer<kv::DeleteResponse>(delete_method, request).deleted();
	}

	kv::ListResponse list(const std::string &after = "", uint32_t limit = 0) const
	{
		kv::ListRequest request;
		request.set_after(after);
		request.set_limit(limit);
		return answer<kv::ListResponse>(list_method, request);
	}

private:
	template <class Response, class Request> Response answer(int32_t method, const Request &request) const
	{
		const Answer raw = instance_.call(method, request.SerializeAsString());
		CHECK(raw.status == DRPC_STATUS_SUCCESS);
		Response response;
		CHECK(response.ParseFromString(raw.body));
		return response;
	}

	const Instance &instance_;
};

std::vector<std::string> keys_of(const kv::ListResponse &response)
{
	return {response.keys().begin(), response.keys().end()};
}

} // namespace

TEST_CASE("kv.so describes module 1001 'kv' with a state handoff")
{
	const Library library(plugin_test::plugin_path("kv"));
	const drpc_plugin &plugin = library.plugin();
	REQUIRE(plugin.info != nullptr);
	CHECK(plugin.info->module_id == 1001);
	CHECK(std::string(plugin.info->name) == "kv");
	CHECK((plugin.export_state != nullptr));
	CHECK((plugin.import_state != nullptr));
}

TEST_CASE("kv.so stores, reads, deletes and lists")
{
	const Library library(plugin_test::plugin_path("kv"));
	const Instance instance(library.plugin());
	const Kv kv(instance);

	CHECK_FALSE(kv.get("a").found());
	CHECK_FALSE(kv.put("b", "2"));
	CHECK_FALSE(kv.put("a", std::string("1\0one", 5)));
	CHECK(kv.put("b", "two"));
	CHECK_FALSE(kv.put("c", ""));

	const kv::GetResponse a = kv.get("a");
	CHECK(a.found());
	CHECK(a.value() == std::string("1\0one", 5));
	CHECK(kv.get("b").value() == "two");
	CHECK(kv.get("c").found());
	CHECK(kv.list().keys_size() == 3);

	CHECK(kv.erase("b"));
	CHECK_FALSE(kv.erase("b"));
	CHECK_FALSE(kv.get("b").found());
	CHECK(keys_of(kv.list()) == std::vector<std::string>{"a", "c"});
}

TEST_CASE("kv.so lists keys in order, one page at a time")
{
	const Library library(plugin_test::plugin_path("kv"));
	const Instance instance(library.plugin(), R"({"max_list_keys": 3})");
	const Kv kv(instance);
	for (const char *key : {"e", "a", "d", "b", "c"})
		kv.put(key, "v");

	struct Case {
		const char *name;
		std::string after;
		uint32_t limit;
		std::vector<std::string> keys;
		bool truncated;
	};
	const Case cases[] = {
		{"first page at max_list_keys", "", 0, {"a", "b", "c"}, true},
		{"second page", "c", 0, {"d", "e"}, false},
		{"a smaller limit", "a", 2, {"b", "c"}, true},
		{"a limit over max_list_keys is capped", "", 100, {"a", "b", "c"}, true},
		{"after a key that is not there", "bb", 0, {"c", "d", "e"}, false},
		{"after the last key", "e", 0, {}, false},
	};
	for (const Case &c : cases) {
		SUBCASE(c.name)
		{
			const kv::ListResponse page = kv.list(c.after, c.limit);
			CHECK(keys_of(page) == c.keys);
			CHECK(page.truncated() == c.truncated);
		}
	}
}

TEST_CASE("kv.so answers FAILURE over a limit and keeps what it had")
{
	const Library library(plugin_test::plugin_path("kv"));
	const Instance instance(library.plugin(), R"({"max_keys": 2, "max_key_bytes": 4, "max_value_bytes": 8})");
	const Kv kv(instance);
	kv.put("k1", "v");

	struct Case {
		const char *name;
		std::string key;
		std::string value;
		int32_t status;
	};
	const Case cases[] = {
		{"key at max_key_bytes", "kkkk", "v", DRPC_STATUS_SUCCESS},
		{"key over max_key_bytes", "kkkkk", "v", DRPC_STATUS_FAILURE},
		{"empty key", "", "v", DRPC_STATUS_FAILURE},
		{"value at max_value_bytes", "k1", std::string(8, 'v'), DRPC_STATUS_SUCCESS},
		{"value over max_value_bytes", "k1", std::string(9, 'v'), DRPC_STATUS_FAILURE},
	};
	for (const Case &c : cases) {
		SUBCASE(c.name) { CHECK(kv.put_status(c.key, c.value) == c.status); }
	}
	SUBCASE("a new key over max_keys; replacing one is still fine")
	{
		kv.put("k2", "v");
		CHECK(kv.put_status("k3", "v") == DRPC_STATUS_FAILURE);
		CHECK(kv.put("k2", "w"));
		CHECK(kv.erase("k2"));
		CHECK_FALSE(kv.put("k3", "v"));
	}
	SUBCASE("reading or deleting a key over max_key_bytes")
	{
		CHECK(instance.call(get_method, "\x0a\x05kkkkk").status == DRPC_STATUS_FAILURE);
		CHECK(instance.call(delete_method, "\x0a\x05kkkkk").status == DRPC_STATUS_FAILURE);
	}
	SUBCASE("bad bodies and methods")
	{
		CHECK(instance.call(put_method, "\xff\xff\xff").status == DRPC_STATUS_FAILED_UNMARSHAL_PAYLOAD);
		CHECK(instance.call(4, "").status == DRPC_STATUS_UNKNOWN_METHOD);
	}
	CHECK(kv.get("k1").found());
}

TEST_CASE("kv.so refuses a config it does not understand, naming the key")
{
	const Library library(plugin_test::plugin_path("kv"));
	const drpc_plugin &plugin = library.plugin();

	CHECK(plugin_test::create_error(plugin, "{}").empty());
	CHECK(plugin_test::create_error(
		      plugin, R"({"max_keys": 5, "max_key_bytes": 5, "max_value_bytes": 5, "max_list_keys": 5})")
	              .empty());

	struct Case {
		const char *name;
		const char *config;
		const char *mentions;
	};
	const Case cases[] = {
		{"unknown key", R"({"max_key": 5})", "max_key'"},
		{"string value", R"({"max_keys": "5"})", "max_keys"},
		{"negative value", R"({"max_value_bytes": -1})", "max_value_bytes"},
		{"zero", R"({"max_list_keys": 0})", "max_list_keys"},
		{"fraction", R"({"max_key_bytes": 1.5})", "max_key_bytes"},
		{"not an object", "[]", "object"},
		{"not JSON", "{", "JSON"},
	};
	for (const Case &c : cases) {
		SUBCASE(c.name)
		{
			const std::string error = plugin_test::create_error(plugin, c.config);
			CHECK(error.find(c.mentions) != std::string::npos);
			CHECK(error.find("kv config") != std::string::npos);
		}
	}
}

TEST_CASE("kv.so hands its whole store to the next build")
{
	const Library library(plugin_test::plugin_path("kv"));
	const Instance old_build(library.plugin());
	const Kv old_kv(old_build);
	for (int i = 0; i < 100; ++i)
		old_kv.put("key" + std::to_string(i), std::string(static_cast<size_t>(i), static_cast<char>(i)));

	const Answer state = old_build.export_state();
	REQUIRE(state.status == DRPC_STATUS_SUCCESS);

	SUBCASE("into an empty instance")
	{
		const Instance new_build(library.plugin());
		const Answer imported = new_build.import_state(state.body);
		REQUIRE(imported.status == DRPC_STATUS_SUCCESS);
		const Kv new_kv(new_build);
		CHECK(keys_of(new_kv.list()) == keys_of(old_kv.list()));
		for (int i = 0; i < 100; ++i)
			CHECK(new_kv.get("key" + std::to_string(i)).value() ==
			      std::string(static_cast<size_t>(i), static_cast<char>(i)));
	}
	SUBCASE("an empty store round-trips too")
	{
		const Instance empty(library.plugin());
		const Answer nothing = empty.export_state();
		REQUIRE(nothing.status == DRPC_STATUS_SUCCESS);
		CHECK(nothing.body.empty());
		const Instance next(library.plugin());
		CHECK(next.import_state(nothing.body).status == DRPC_STATUS_SUCCESS);
		CHECK(Kv(next).list().keys_size() == 0);
	}
	SUBCASE("a new build with lower limits refuses it and keeps its own data")
	{
		const Instance small(library.plugin(), R"({"max_keys": 50})");
		Kv(small).put("mine", "x");
		const Answer imported = small.import_state(state.body);
		CHECK(imported.status == DRPC_STATUS_FAILURE);
		CHECK(imported.body.find("max_keys") != std::string::npos);
		CHECK(keys_of(Kv(small).list()) == std::vector<std::string>{"mine"});
	}
}

TEST_CASE("kv.so refuses state that is not a valid snapshot")
{
	const Library library(plugin_test::plugin_path("kv"));
	const Instance instance(library.plugin(), R"({"max_key_bytes": 4, "max_value_bytes": 4})");

	auto snapshot = [](std::initializer_list<std::pair<std::string, std::string>> entries) {
		kv::Snapshot message;
		for (const auto &[key, value] : entries) {
			kv::Entry *entry = message.add_entries();
			entry->set_key(key);
			entry->set_value(value);
		}
		return message.SerializeAsString();
	};
	struct Case {
		const char *name;
		std::string state;
		const char *mentions;
	};
	const Case cases[] = {
		{"not protobuf", "\xff\xff\xff", "not a kv.Snapshot"},
		{"a duplicate key", snapshot({{"a", "1"}, {"a", "2"}}), "twice"},
		{"a key over the limit", snapshot({{"a", "1"}, {"kkkkk", "2"}}), "entry 1"},
		{"a value over the limit", snapshot({{"a", "12345"}}), "max_value_bytes"},
		{"an empty key", snapshot({{"", "1"}}), "empty key"},
	};
	for (const Case &c : cases) {
		SUBCASE(c.name)
		{
			const Answer imported = instance.import_state(c.state);
			CHECK(imported.status == DRPC_STATUS_FAILURE);
			CHECK(imported.body.find(c.mentions) != std::string::npos);
			CHECK(Kv(instance).list().keys_size() == 0);
		}
	}
}

TEST_CASE("kv.so serves calls from several threads at once")
{
	const Library library(plugin_test::plugin_path("kv"));
	const Instance instance(library.plugin());
	constexpr int threads = 4;
	constexpr int keys_per_thread = 200;

	// Each thread writes its own keys and reads them back while the others
	// write and list; a lost update or a torn read shows as a wrong value.
	std::vector<std::thread> workers;
	std::vector<int> mismatches(threads, 0);
	for (int t = 0; t < threads; ++t) {
		workers.emplace_back([&, t] {
			for (int i = 0; i < keys_per_thread; ++i) {
				const std::string key = "t" + std::to_string(t) + "-" + std::to_string(i);
				kv::PutRequest put;
				put.set_key(key);
				put.set_value(key + "-value");
				if (instance.call(put_method, put.SerializeAsString()).status != DRPC_STATUS_SUCCESS)
					++mismatches[t];
				kv::GetRequest get;
				get.set_key(key);
				kv::GetResponse got;
				if (!got.ParseFromString(instance.call(get_method, get.SerializeAsString()).body) ||
				    got.value() != key + "-value")
					++mismatches[t];
				if (i % 20 == 0 && instance.call(list_method, "").status != DRPC_STATUS_SUCCESS)
					++mismatches[t];
			}
		});
	}
	for (std::thread &worker : workers)
		worker.join();
	for (int t = 0; t < threads; ++t)
		CHECK(mismatches[t] == 0);

	kv::ListRequest all;
	all.set_limit(1000);
	kv::ListResponse listed;
	REQUIRE(listed.ParseFromString(instance.call(list_method, all.SerializeAsString()).body));
	CHECK(listed.keys_size() == threads * keys_per_thread);
	CHECK_FALSE(listed.truncated());
}
