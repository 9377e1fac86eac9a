// SPDX-License-Identifier: Apache-2.0
/// @file sandbox.hpp
/// The optional sandbox of an isolated worker (`modules.<name>.sandbox`): a
/// seccomp filter and a Landlock rule set, so that a plugin cannot exec,
/// trace, open new sockets or write files outside what the config allows.
///
/// ## What a sandboxed worker may not do
/// Each of these syscalls fails with EPERM (the plugin sees an error, the
/// worker lives; see seccomp_filter.hpp for the exact list):
/// - run a program: execve, execveat;
/// - look into or act on other processes: ptrace, process_vm_readv/writev,
///   process_madvise, kcmp, pidfd_getfd;
/// - create a socket: socket, socketpair. accept() on a socket it inherited
///   still works, and so does every descriptor it already holds;
/// - change the file system view or namespaces: mount, umount2, pivot_root,
///   chroot, the new mount API (fsopen ... mount_setattr), open_by_handle_at,
///   unshare, setns, and clone() with any CLONE_NEW* flag;
/// - kernel facilities a plugin has no business with: keyctl, add_key,
///   request_key, bpf, perf_event_open, userfaultfd, io_uring_* (which would
///   bypass this filter), kexec_*, *_module, reboot, swapon/swapoff, acct,
///   quotactl, iopl, ioperm, syslog.
/// clone3 fails with ENOSYS instead, because its flags cannot be inspected:
/// the C library then falls back to clone(), which is checked. A syscall of
/// another architecture (e.g. int 0x80 on x86-64) kills the process.
///
/// ## What it may touch in the file system (Landlock, where the kernel has it)
/// - read (files, directory listings, and mapping libraries) under each
///   SandboxPolicy::read_only path, the files of SandboxPolicy::read_only_fds,
///   and under what the dynamic loader and the
///   C library need: /usr, /lib, /lib64, /lib32, /libx32, /etc/ld.so.cache,
///   /etc/localtime, /proc/self (sanitizers and glibc read it), /dev/urandom;
/// - read and write, create and remove, under each SandboxPolicy::read_write
///   path, and write /dev/null;
/// - nothing else: an open() of any other path fails with EACCES, whatever
///   the file's mode. Descriptors already open (the plugin file, the host
///   socket, 0/1/2) are not affected.
/// With Landlock ABI 3 or later truncate() is also confined; TCP and abstract
/// sockets are not handled by the rule set since the worker cannot create
/// sockets at all. A kernel without Landlock gets the seccomp filter alone,
/// and the returned log line says so.
///
/// ## When the worker calls it
/// After confine() and BEFORE the plugin is mapped, with one thread: then
/// the plugin's static constructors and create() run sandboxed too (that is
/// what "contains its intent" means). Mapping works inside the sandbox when
/// the plugin's descriptor is in SandboxPolicy::read_only_fds: dlopen() of
/// /proc/self/fd/N and of the plugin's libraries under /usr and /lib is then
/// allowed (tests/host/worker proves both that and the EACCES without it).
/// Calling it after mapping also works but lets the plugin's constructors
/// run free. It must run while the process has one thread,
/// since Landlock confines only the calling thread and the threads it starts
/// later; threads may be started afterwards.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace drpc::host::worker {

/// What the config allows a sandboxed worker in the file system.
struct SandboxPolicy {
	std::vector<std::filesystem::path> read_only;  ///< read under each, besides the loader's paths
	std::vector<std::filesystem::path> read_write; ///< read, write, create and remove under each
	/// Files already open that may be opened again for reading through
	/// /proc/self/fd/N: the plugin's descriptor, which dlopen() maps by that
	/// path. Landlock judges such a reopen by the file's real path, which no
	/// other rule covers (the host's private copy in its runtime directory).
	/// A sealed memfd (the copy a worker gets when it runs as another user)
	/// needs no rule: Landlock does not govern internal files.
	std::vector<int> read_only_fds;
};

/// Whether this build can sandbox (it was built with libseccomp), so the host
/// can refuse `sandbox: true` when it reads its config rather than when a
/// worker starts.
[[nodiscard]] bool sandbox_available() noexcept;

/// Enters the sandbox for good (see the file comment), for this process and
/// every thread and child it starts later. Sets PR_SET_NO_NEW_PRIVS. Returns
/// one line for the worker's log saying what was applied, including "Landlock
/// unavailable: <why>" when the kernel lacks it. Throws std::runtime_error
/// when built without libseccomp, std::invalid_argument for a policy path
/// that does not exist or a process with more than one thread, and
/// std::system_error naming the step that failed (after which the process
/// may be partly sandboxed: exit).
std::string enter_sandbox(const SandboxPolicy &policy);

} // namespace drpc::host::worker
