// SPDX-License-Identifier: Apache-2.0
// The fault plugins (tests/host/plugins/faults) are real plugin files the loader would
// accept: each has its own info record and exports only its entry. They are never
// mapped here, since each would take this process down.
#include "host_support.hpp"

#include <elf_info.hpp>
#include <plugin_info.hpp>

#include <doctest/doctest.h>

#include <algorithm>

namespace {

bool needs_full_protobuf(const std::vector<std::string> &needed)
{
	return std::ranges::any_of(needed,
	                           [](const std::string &library) { return library.starts_with("libprotobuf.so"); });
}

} // namespace

TEST_CASE("fault plugins: each file has its own info record and only its entry")
{
	struct Case {
		const char *name;
		int32_t module_id;
	};
	const Case cases[] = {
		{"fault_segv", 4900},   {"fault_abort", 4901},  {"fault_exit_create", 4902},
		{"fault_ctor", 4903},   {"fault_loop", 4904},   {"fault_leak", 4905},
		{"fault_thread", 4906}, {"fault_fullpb", 4907}, {"fault_fork", 4908},
	};
	for (const Case &c : cases) {
		SUBCASE(c.name)
		{
			const std::string file = host_test::read_file(std::filesystem::path(DRPC_TEST_PLUGIN_DIR) /
			                                              "faults" / (std::string(c.name) + ".so"));
			const std::span image(reinterpret_cast<const uint8_t *>(file.data()), file.size());
			const drpc_plugin_info info = drpc::host::read_plugin_info(image);
			CHECK(info.module_id == c.module_id);
			CHECK(std::string(info.name) == c.name);
			CHECK(drpc::host::elf::exported_symbol_count(image) == 1);
			// Only fault_fullpb carries the runtime the host refuses in-process.
			CHECK(needs_full_protobuf(drpc::host::elf::needed_libraries(image)) ==
			      (std::string(c.name) == "fault_fullpb"));
		}
	}
}
