// SPDX-License-Identifier: Apache-2.0
/// @file test_files.hpp
/// Reading the files tests check: any file whole, and DAOS's captured
/// records (tests/wire-vectors, $DRPC_WIRE_VECTORS) for every suite that
/// checks bytes against DAOS's own.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace test_support {

/// The whole file. Throws std::runtime_error when it cannot be read.
[[nodiscard]] std::string read_file(const std::filesystem::path &path);

/// The records of wire vector `name` (chunk0, chunk1, ... in order). Throws
/// std::runtime_error when there is none or $DRPC_WIRE_VECTORS is not set.
[[nodiscard]] std::vector<std::string> vector_records(const std::string &name);

} // namespace test_support
