// SPDX-License-Identifier: Apache-2.0
/// @file runtime_dir.hpp
/// The host's private directory of plugin copies: the host maps only files it
/// wrote itself, in a directory nobody else can write to.
#pragma once

#include <drpc/unique_fd.hpp>

#include <cstdint>
#include <filesystem>
#include <string_view>

namespace drpc::host {

/// A file the host created in its runtime directory. Closed and removed
/// when the object goes; moving hands that duty over.
class RuntimeFile {
public:
	RuntimeFile() noexcept = default;
	RuntimeFile(std::filesystem::path path, int fd) noexcept : path_(std::move(path)), fd_(fd) {}
	RuntimeFile(RuntimeFile &&other) noexcept;
	RuntimeFile &operator=(RuntimeFile &&other) noexcept;
	RuntimeFile(const RuntimeFile &) = delete;
	RuntimeFile &operator=(const RuntimeFile &) = delete;
	~RuntimeFile();

	[[nodiscard]] const std::filesystem::path &path() const noexcept { return path_; }
	/// Open for reading and writing until close(); -1 after.
	[[nodiscard]] int fd() const noexcept { return fd_.get(); }
	void close() noexcept;
	/// Closes and unlinks now.
	void remove() noexcept;

private:
	std::filesystem::path path_;
	drpc::UniqueFd fd_;
};

/// The directory itself. Locked (flock) for as long as the object lives, so
/// that two hosts never share one and clean each other's copies.
class RuntimeDir {
public:
	/// With `configured` empty: a fresh directory made by mkdtemp(3) under
	/// $XDG_RUNTIME_DIR (when set) or /tmp, named drpc-host-<pid>-XXXXXX.
	/// Otherwise that directory, created (mode 0700) when missing; copies
	/// left in it by an earlier host (*.so) are removed. With
	/// `strict_permissions` the directory must be owned by the effective user
	/// and closed to group and others. Throws drpc::Error naming the path.
	RuntimeDir(const std::filesystem::path &configured, bool strict_permissions);
	/// Removes the copies still in the directory and then the directory.
	~RuntimeDir();
	RuntimeDir(const RuntimeDir &) = delete;
	RuntimeDir &operator=(const RuntimeDir &) = delete;

	[[nodiscard]] const std::filesystem::path &path() const noexcept { return path_; }

	/// Creates `<stem>.<generation>.so` (mode 0600) exclusively: a name is
	/// never reused, so every loaded generation of a plugin has its own file.
	/// Throws drpc::SystemError naming the file.
	[[nodiscard]] RuntimeFile create_file(std::string_view stem, uint64_t generation);

private:
	/// Unlinks every *.so in the directory; returns how many.
	size_t remove_copies() noexcept;

	std::filesystem::path path_;
	drpc::UniqueFd fd_;
};

} // namespace drpc::host
