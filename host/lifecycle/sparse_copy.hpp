// SPDX-License-Identifier: Apache-2.0
/// @file sparse_copy.hpp
/// Copying a file's contents, holes kept: only the data extents are copied
/// (SEEK_DATA/SEEK_HOLE), so a 200 MiB file that is mostly holes costs its
/// data in the runtime directory (a tmpfs, that is RAM), not 200 MiB.
#pragma once

#include <cstdint>

namespace drpc::host {

/// Copies all of `from` (from offset 0) into the empty file `to` and gives
/// `to` the same size; holes in `from` stay holes in `to`. Refuses a file
/// longer than `max_bytes`, and copies no more than the size it had then,
/// however it grows meanwhile. Uses copy_file_range(2), falling back to read/write
/// where the kernel cannot copy between the two file systems. Returns the
/// file's size. Throws drpc::Error / drpc::SystemError saying what failed.
uint64_t copy_keeping_holes(int from, int to, uint64_t max_bytes);

} // namespace drpc::host
