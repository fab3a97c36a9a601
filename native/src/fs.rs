//! Files and directories that native code uses on a guest's behalf, opened exactly once.
//!
//! Deno's permission checks never see what native code opens, so the binding checks them
//! itself; checking a path and then letting Wasmtime open it by path again loses to anyone who
//! swaps a symlink in between. Here the object is opened first, JS checks the path the kernel
//! reports for the open descriptor (`/proc/self/fd` on Linux, `F_GETPATH` on macOS), and only
//! that descriptor is handed to WASI.
use crate::wasi::builder_of;
use std::ffi::CString;
use std::fs::File;
use std::os::fd::FromRawFd;
use wasmtime_c_api::wasi_config_t;
use wasmtime_wasi::cli::{InputFile, OutputFile};
use wasmtime_wasi::FsPerms;

/// Open modes of `wasmtime_deno_fs_open`.
pub const OPEN_DIRECTORY: u32 = 0;
pub const OPEN_READ: u32 = 1;
pub const OPEN_WRITE_EXISTING: u32 = 2;

fn errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

fn c_path(path: *const u8, len: usize) -> Option<CString> {
    // SAFETY: the caller passes `len` readable bytes.
    let bytes = unsafe { std::slice::from_raw_parts(path, len) };
    CString::new(bytes).ok()
}

/// Opens `path` (following symlinks: the check is made on what was opened) as a directory
/// (mode 0), for reading (1), or for writing an existing file without truncating it (2).
/// Writes the descriptor to `fd_out`; returns 0 or an errno value.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_fs_open(
    path: *const u8,
    len: usize,
    mode: u32,
    fd_out: &mut i32,
) -> i32 {
    let Some(path) = c_path(path, len) else {
        return libc::EINVAL;
    };
    // O_NONBLOCK: opening a FIFO must not wait for its other end (that would block the JS
    // thread before any deadline exists); JS refuses anything but a regular file or directory
    // afterwards (see `wasmtime_deno_fs_kind`), and on those the flag changes nothing.
    let flags = libc::O_CLOEXEC
        | libc::O_NONBLOCK
        | match mode {
            OPEN_DIRECTORY => libc::O_RDONLY | libc::O_DIRECTORY,
            OPEN_READ => libc::O_RDONLY,
            OPEN_WRITE_EXISTING => libc::O_WRONLY,
            _ => return libc::EINVAL,
        };
    // SAFETY: a NUL-terminated path; no mode argument is needed without O_CREAT.
    let fd = unsafe { libc::open(path.as_ptr(), flags) };
    if fd < 0 {
        return errno();
    }
    *fd_out = fd;
    0
}

/// Creates the new file `name` (one path component) in the directory `dir_fd` for writing;
/// refuses to follow or replace anything already there (a dangling symlink included).
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_fs_create_at(
    dir_fd: i32,
    name: *const u8,
    len: usize,
    fd_out: &mut i32,
) -> i32 {
    let Some(name) = c_path(name, len) else {
        return libc::EINVAL;
    };
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.contains(&b'/') || bytes == b"." || bytes == b".." {
        return libc::EINVAL;
    }
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    // SAFETY: a NUL-terminated single component relative to a directory descriptor.
    let fd = unsafe { libc::openat(dir_fd, name.as_ptr(), flags, 0o666 as libc::c_uint) };
    if fd < 0 {
        return errno();
    }
    *fd_out = fd;
    0
}

/// Writes the path the kernel reports for `fd` into `buf`; returns its length, or -errno
/// (-ERANGE if `capacity` is too small).
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_fs_path(fd: i32, buf: *mut u8, capacity: usize) -> isize {
    let path = match fd_path(fd) {
        Ok(path) => path,
        Err(errno) => return -(errno as isize),
    };
    if path.len() > capacity {
        return -(libc::ERANGE as isize);
    }
    // SAFETY: the caller provides `capacity` writable bytes.
    unsafe { std::ptr::copy_nonoverlapping(path.as_ptr(), buf, path.len()) };
    path.len() as isize
}

#[cfg(target_os = "linux")]
fn fd_path(fd: i32) -> Result<Vec<u8>, i32> {
    use std::os::unix::ffi::OsStrExt;
    std::fs::read_link(format!("/proc/self/fd/{fd}"))
        .map(|p| p.as_os_str().as_bytes().to_vec())
        .map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))
}

#[cfg(target_os = "macos")]
fn fd_path(fd: i32) -> Result<Vec<u8>, i32> {
    let mut buf = vec![0u8; libc::PATH_MAX as usize];
    // SAFETY: F_GETPATH writes at most PATH_MAX bytes, NUL-terminated.
    if unsafe { libc::fcntl(fd, libc::F_GETPATH, buf.as_mut_ptr()) } < 0 {
        return Err(errno());
    }
    let len = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    buf.truncate(len);
    Ok(buf)
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn fd_path(_fd: i32) -> Result<Vec<u8>, i32> {
    Err(libc::ENOSYS)
}

/// The path that reopens exactly the object behind `fd` (a magic link, not a name lookup).
fn reopen_path(fd: i32) -> String {
    if cfg!(target_os = "linux") {
        format!("/proc/self/fd/{fd}")
    } else {
        format!("/dev/fd/{fd}")
    }
}

/// Kinds of `wasmtime_deno_fs_kind`.
pub const FS_KIND_OTHER: u32 = 0;
pub const FS_KIND_FILE: u32 = 1;
pub const FS_KIND_DIRECTORY: u32 = 2;

/// What `fd` is: a regular file (1), a directory (2) or anything else (0: a FIFO, a socket, a
/// device, which could block a guest's read or write beyond any deadline); -errno on failure.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_fs_kind(fd: i32) -> i64 {
    let mut stat = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: fstat writes a full `stat` on success.
    if unsafe { libc::fstat(fd, stat.as_mut_ptr()) } < 0 {
        return -(errno() as i64);
    }
    // SAFETY: initialised by the successful fstat.
    let mode = unsafe { stat.assume_init() }.st_mode & libc::S_IFMT;
    i64::from(match mode {
        libc::S_IFREG => FS_KIND_FILE,
        libc::S_IFDIR => FS_KIND_DIRECTORY,
        _ => FS_KIND_OTHER,
    })
}

/// Truncates the file behind `fd` to zero bytes; returns 0 or an errno value.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_fs_truncate(fd: i32) -> i32 {
    // SAFETY: plain syscall on a descriptor the caller owns.
    if unsafe { libc::ftruncate(fd, 0) } < 0 {
        errno()
    } else {
        0
    }
}

/// Closes a descriptor opened by this module and not handed over.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_fs_close(fd: i32) {
    // SAFETY: the caller owns `fd`.
    unsafe { libc::close(fd) };
}

/// Preopens the directory behind `fd` as `guest` (read-only unless `mutable`). The caller keeps
/// `fd` and closes it afterwards. Returns false if Wasmtime cannot use it.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_wasi_preopen_fd(
    config: &mut wasi_config_t,
    fd: i32,
    guest: *const u8,
    guest_len: usize,
    mutable: bool,
) -> bool {
    // SAFETY: the caller passes `guest_len` readable bytes.
    let guest = unsafe { std::slice::from_raw_parts(guest, guest_len) };
    let Ok(guest) = std::str::from_utf8(guest) else {
        return false;
    };
    let perms = if mutable {
        FsPerms::ReadWrite
    } else {
        FsPerms::ReadOnly
    };
    builder_of(config)
        .preopened_dir(reopen_path(fd), guest, perms)
        .is_ok()
}

/// Hands `fd` (owned from now on by the configuration) to WASI as stdin (`stream` 0), stdout
/// (1) or stderr (2).
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_wasi_stdio_fd(config: &mut wasi_config_t, fd: i32, stream: u32) {
    // SAFETY: the caller transfers ownership of an open descriptor.
    let file = unsafe { File::from_raw_fd(fd) };
    let builder = builder_of(config);
    match stream {
        0 => {
            builder.stdin(InputFile::new(file));
        }
        2 => {
            builder.stderr(OutputFile::new(file));
        }
        _ => {
            builder.stdout(OutputFile::new(file));
        }
    }
}
