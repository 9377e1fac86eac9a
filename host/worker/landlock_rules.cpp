// SPDX-License-Identifier: Apache-2.0
// The sandbox's Landlock rule set, through the raw syscalls (no library wraps them).
#include "landlock_rules.hpp"

#include <cerrno>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdexcept>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <system_error>
#include <unistd.h>

// Rights newer than the C library's kernel headers: values from the kernel's
// stable uapi (include/uapi/linux/landlock.h), never renumbered.
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13) // ABI 2
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14) // ABI 3
#endif

namespace drpc::host::worker {

namespace {

constexpr uint64_t read_rights =
	LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_EXECUTE;
/// The rights that apply to a regular file (the others are directory rights,
/// which the kernel refuses on a file's rule).
constexpr uint64_t file_rights = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                                 LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE;

/// Every file-system right ABI `abi` knows: all of them are handled, so
/// anything not granted by a rule is denied.
uint64_t handled_rights(int abi) noexcept
{
	uint64_t rights = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; // ABI 1: bits 0..12
	if (abi >= 2)
		rights |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		rights |= LANDLOCK_ACCESS_FS_TRUNCATE;
	return rights;
}

class Fd {
public:
	explicit Fd(int fd) noexcept : fd_(fd) {}
	~Fd()
	{
		if (fd_ >= 0)
			(void)close(fd_);
	}
	Fd(const Fd &) = delete;
	Fd &operator=(const Fd &) = delete;
	[[nodiscard]] int get() const noexcept { return fd_; }

private:
	int fd_;
};

/// Adds a rule granting `rights` beneath the file or directory open at
/// `fd` (`what` names it in errors). Returns false, adding nothing, when it
/// is on an internal file system, which Landlock does not restrict.
bool add_rule_for(int ruleset, int fd, uint64_t rights, const std::string &what)
{
	struct stat st {};
	if (fstat(fd, &st) != 0)
		throw std::system_error(errno, std::generic_category(), "Landlock: fstat " + what);
	if (!S_ISDIR(st.st_mode))
		rights &= file_rights;
	landlock_path_beneath_attr rule{};
	rule.allowed_access = rights;
	rule.parent_fd = fd;
	if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) == 0)
		return true;
	if (errno == EBADFD)
		return false;
	throw std::system_error(errno, std::generic_category(), "Landlock: rule for " + what);
}

/// Adds a rule granting `rights` beneath `path`; false when `path` is
/// missing and `optional`.
bool add_rule(int ruleset, const std::filesystem::path &path, uint64_t rights, bool optional)
{
	const Fd fd(open(path.c_str(), O_PATH | O_CLOEXEC));
	if (fd.get() == -1) {
		if (errno == ENOENT && optional)
			return false;
		if (errno == ENOENT)
			throw std::invalid_argument("sandbox: path " + path.string() + " does not exist");
		throw std::system_error(errno, std::generic_category(), "Landlock: opening " + path.string());
	}
	if (!add_rule_for(ruleset, fd.get(), rights, path.string()))
		throw std::invalid_argument("sandbox: path " + path.string() +
		                            " is not in a file system Landlock governs");
	return true;
}

} // namespace

int landlock_abi(std::string *why) noexcept
{
	const long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi > 0)
		return static_cast<int>(abi);
	if (why != nullptr) {
		if (errno == ENOSYS)
			*why = "not in this kernel (landlock_create_ruleset: ENOSYS)";
		else if (errno == EOPNOTSUPP)
			*why = "built into the kernel but disabled at boot (add landlock to lsm=)";
		else
			*why = "landlock_create_ruleset: " + std::error_code(errno, std::generic_category()).message();
	}
	return 0;
}

std::string apply_landlock(const LandlockPaths &paths)
{
	std::string why;
	const int abi = landlock_abi(&why);
	if (abi == 0) {
		for (const auto &path : paths.read_only) // still refuse a config naming a missing path
			if (!std::filesystem::exists(path))
				throw std::invalid_argument("sandbox: path " + path.string() + " does not exist");
		for (const auto &path : paths.read_write)
			if (!std::filesystem::exists(path))
				throw std::invalid_argument("sandbox: path " + path.string() + " does not exist");
		return "Landlock unavailable: " + why + "; file access is not confined";
	}
	const uint64_t handled = handled_rights(abi);
	landlock_ruleset_attr attributes{};
	attributes.handled_access_fs = handled;
	const Fd ruleset(static_cast<int>(syscall(SYS_landlock_create_ruleset, &attributes, sizeof(attributes), 0)));
	if (ruleset.get() == -1)
		throw std::system_error(errno, std::generic_category(), "Landlock: landlock_create_ruleset");
	size_t read_only = 0;
	size_t read_write = 0;
	for (const auto &path : paths.read_only)
		read_only += add_rule(ruleset.get(), path, read_rights, false) ? 1 : 0;
	for (const auto &path : paths.optional_read_only)
		read_only += add_rule(ruleset.get(), path, read_rights, true) ? 1 : 0;
	for (const auto &path : paths.read_write)
		read_write += add_rule(ruleset.get(), path, handled, false) ? 1 : 0;
	for (const auto &path : paths.optional_read_write)
		read_write += add_rule(ruleset.get(), path, handled, true) ? 1 : 0;
	for (const int fd : paths.read_only_fds)
		read_only += add_rule_for(ruleset.get(), fd, read_rights, "descriptor " + std::to_string(fd)) ? 1 : 0;
	if (syscall(SYS_landlock_restrict_self, ruleset.get(), 0) != 0)
		throw std::system_error(errno, std::generic_category(), "Landlock: landlock_restrict_self");
	return "Landlock ABI " + std::to_string(abi) + ": " + std::to_string(read_only) + " read-only, " +
	       std::to_string(read_write) + " read-write paths";
}

} // namespace drpc::host::worker
