"""A seccomp filter for sandbox workers: the system calls no GSM8K program needs fail with EPERM.

    data = seccomp.program()   # a classic BPF program (bytes) for bwrap --seccomp FD; None where
                               # this machine's architecture has no table here (x86_64 only)

Refused: new namespaces (unshare, setns, clone with a CLONE_NEW* flag; clone3, whose flags a
filter cannot read, fails with ENOSYS so that the C library falls back to clone), mounting
(mount, umount2, pivot_root, chroot, the new mount API), tracing and other processes' memory
(ptrace, process_vm_readv/writev), the kernel keyring, bpf, perf_event_open, userfaultfd,
io_uring, kernel modules, kexec, swap, reboot, acct, quotactl, syslog, iopl/ioperm, and file
handles (open_by_handle_at). Calls from any other ABI (i386 via int 0x80, x32) are refused
outright, since their numbers differ. Written by hand, because no seccomp library is a
dependency here: the program is a list of comparisons, built once per process.

Cost: a few dozen BPF instructions per system call. Kernels before 5.16 also force the
speculative-store-bypass mitigation on every seccomp-filtered task (a CPU cost on some hardware);
later ones leave it to prctl. Measured: benchmarks/README.md, "Costs behind design choices".
"""
from __future__ import annotations

import errno
import platform
import struct

AUDIT_ARCH_X86_64 = 0xC000003E
X32_BIT = 0x40000000
BLOCKED_X86_64 = {  # name -> number, from asm/unistd_64.h
    "ptrace": 101, "syslog": 103, "pivot_root": 155, "chroot": 161, "acct": 163, "mount": 165,
    "umount2": 166, "swapon": 167, "swapoff": 168, "reboot": 169, "iopl": 172, "ioperm": 173,
    "init_module": 175, "delete_module": 176, "quotactl": 179, "lookup_dcookie": 212,
    "kexec_load": 246, "add_key": 248, "request_key": 249, "keyctl": 250, "unshare": 272,
    "perf_event_open": 298, "name_to_handle_at": 303, "open_by_handle_at": 304, "setns": 308,
    "process_vm_readv": 310, "process_vm_writev": 311, "finit_module": 313, "kexec_file_load": 320,
    "bpf": 321, "userfaultfd": 323, "io_uring_setup": 425, "io_uring_enter": 426,
    "io_uring_register": 427, "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431,
    "fsmount": 432, "fspick": 433, "mount_setattr": 442,
}
CLONE, CLONE3 = 56, 435
CLONE_NEW_FLAGS = 0x7E020000  # NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET

# classic BPF opcodes and seccomp return values (linux/filter.h, linux/seccomp.h)
LD_ABS, JEQ, JGE, JSET, RET = 0x20, 0x15, 0x35, 0x45, 0x06
ALLOW, ERRNO = 0x7FFF0000, 0x00050000
NR, ARCH, ARG0 = 0, 4, 16  # offsets in struct seccomp_data (arg 0: its low 32 bits, little-endian)


def program() -> bytes | None:
    """The filter as bytes (struct sock_filter[]), or None on an architecture without a table."""
    if platform.machine() != "x86_64":
        return None
    blocked = sorted(BLOCKED_X86_64.values())
    # Layout: 0 load arch, 1 check, 2 load nr, 3 x32?, then one JEQ per blocked call, then clone3,
    # clone, allow; then the clone flag check (load arg 0, test, allow); then deny and ENOSYS.
    body: list[tuple[int, int, int, int]] = []
    n = 4 + len(blocked) + 3 + 3  # instructions before the two return-errno ones
    deny, enosys = n, n + 1

    def jump(at: int, to: int) -> int:  # a relative jump from instruction `at` to `to`
        return to - at - 1

    body.append((LD_ABS, 0, 0, ARCH))
    body.append((JEQ, 0, jump(1, deny), AUDIT_ARCH_X86_64))
    body.append((LD_ABS, 0, 0, NR))
    body.append((JGE, jump(3, deny), 0, X32_BIT))
    for number in blocked:
        body.append((JEQ, jump(len(body), deny), 0, number))
    body.append((JEQ, jump(len(body), enosys), 0, CLONE3))
    check = len(body) + 2
    body.append((JEQ, jump(len(body), check), 0, CLONE))
    body.append((RET, 0, 0, ALLOW))
    body.append((LD_ABS, 0, 0, ARG0))
    body.append((JSET, jump(len(body), deny), 0, CLONE_NEW_FLAGS))
    body.append((RET, 0, 0, ALLOW))
    assert len(body) == n, (len(body), n)
    body.append((RET, 0, 0, ERRNO | errno.EPERM))
    body.append((RET, 0, 0, ERRNO | errno.ENOSYS))
    return b"".join(struct.pack("=HBBI", *instruction) for instruction in body)
