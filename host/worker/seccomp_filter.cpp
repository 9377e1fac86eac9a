// SPDX-License-Identifier: Apache-2.0
// The sandbox's seccomp filter, through libseccomp when the build has it.
#include "seccomp_filter.hpp"

#include <array>
#include <cerrno>
#include <sched.h>
#include <stdexcept>
#include <system_error>

#ifdef DRPC_HAVE_SECCOMP
#include <seccomp.h>
#endif

namespace drpc::host::worker {

namespace {

constexpr std::array denied = {
	// running programs
	"execve", "execveat",
	// other processes' memory and descriptors
	"ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "kcmp", "pidfd_getfd",
	// new sockets (accept on an inherited one is allowed)
	"socket", "socketpair",
	// the file system view and namespaces
	"mount", "umount2", "pivot_root", "chroot", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount",
	"open_tree", "mount_setattr", "name_to_handle_at", "open_by_handle_at", "unshare", "setns",
	// keys, BPF, performance counters, and other kernel facilities
	"keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter",
	"io_uring_register", "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "reboot",
	"swapon", "swapoff", "acct", "quotactl", "iopl", "ioperm", "syslog"};

} // namespace

std::span<const char *const> denied_syscalls() noexcept { return denied; }

#ifdef DRPC_HAVE_SECCOMP

namespace {

[[noreturn]] void fail(int rc, const std::string &step)
{
	throw std::system_error(-rc, std::generic_category(), "seccomp: " + step);
}

/// Releases the libseccomp context however the installation ends.
struct Context {
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	~Context() { seccomp_release(ctx); }
};

} // namespace

bool seccomp_available() noexcept { return true; }

std::string install_seccomp_filter()
{
	Context filter;
	if (filter.ctx == nullptr)
		throw std::system_error(ENOMEM, std::generic_category(), "seccomp: seccomp_init");
	if (const int rc = seccomp_attr_set(filter.ctx, SCMP_FLTATR_CTL_TSYNC, 1); rc != 0)
		fail(rc, "setting TSYNC");
	size_t count = 0;
	for (const char *name : denied) {
		const int number = seccomp_syscall_resolve_name(name);
		if (number == __NR_SCMP_ERROR)
			continue;
		if (const int rc = seccomp_rule_add(filter.ctx, SCMP_ACT_ERRNO(EPERM), number, 0); rc != 0) {
			if (rc == -EDOM || rc == -EINVAL)
				continue; // a pseudo-syscall that does not exist on this architecture
			fail(rc, std::string("denying ") + name);
		}
		++count;
	}
	// clone()'s flags are its first argument on x86-64 and arm64: one rule per
	// namespace flag, since a rule's conditions must all hold.
	constexpr std::array namespace_flags = {CLONE_NEWNS,   CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
	                                        CLONE_NEWUSER, CLONE_NEWPID,    CLONE_NEWNET, 0x00000080 /* NEWTIME */};
	for (const int flag : namespace_flags) {
		const auto mask = static_cast<scmp_datum_t>(flag);
		if (const int rc = seccomp_rule_add(filter.ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
		                                    SCMP_A0(SCMP_CMP_MASKED_EQ, mask, mask));
		    rc != 0)
			fail(rc, "denying clone with namespace flags");
	}
	if (const int rc = seccomp_rule_add(filter.ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0); rc != 0)
		fail(rc, "answering clone3 ENOSYS");
	if (const int rc = seccomp_load(filter.ctx); rc != 0)
		fail(rc, "seccomp_load");
	return "seccomp: " + std::to_string(count) + " syscalls denied";
}

#else

bool seccomp_available() noexcept { return false; }

std::string install_seccomp_filter()
{
	throw std::runtime_error("sandbox: this build has no libseccomp (install libseccomp-dev and rebuild): "
	                         "refusing to run a sandboxed worker without its seccomp filter");
}

#endif

} // namespace drpc::host::worker
