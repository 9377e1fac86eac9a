// SPDX-License-Identifier: Apache-2.0
/// @file directory_entries.hpp
/// Listing a directory held open by descriptor, the one way every host
/// component reads one.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace drpc::host {

/// The names in the directory open as `dir_fd` that `keep` accepts, in
/// readdir order. Read through a duplicate, so `dir_fd` is left as it was;
/// collected in full before returning, because unlinking while readdir()
/// runs may skip entries.
/// @throws drpc::SystemError naming the step (dup, fdopendir, readdir)
[[nodiscard]] std::vector<std::string> directory_entries(int dir_fd, const std::function<bool(std::string_view)> &keep);

} // namespace drpc::host
