//! SQLite allocates through the process's Rust allocator.
//!
//! The bundled SQLite calls the C library's `malloc` unless told otherwise,
//! while the `gloss` binary's Rust code uses mimalloc. Under the queue
//! benchmark glibc's `malloc` and `free` were about a tenth of the queue
//! writer thread's CPU (`perf`, docs/performance.md): SQLite allocates and
//! frees small blocks for every statement it runs, on several threads. With
//! these methods SQLite uses whatever allocator the program registered
//! (mimalloc in the binary, the system's in tests), and one allocator serves
//! the whole process.
//!
//! SQLite must be told before it initialises, which it does when the first
//! connection opens: [`install`] runs at the start of `Store::open`. If
//! something opened SQLite earlier, SQLite refuses the change and keeps its
//! own allocator, which is correct too, only slower; nothing is ever freed by
//! an allocator other than the one that allocated it, since SQLite copies the
//! methods once and uses them for its whole life.

use rusqlite::ffi;
use std::alloc::{alloc, dealloc, realloc, Layout};
use std::os::raw::{c_int, c_void};
use std::sync::OnceLock;

/// Each block starts with its size, since SQLite asks for it (`xSize`) and
/// Rust's allocator needs it to free. Eight bytes keep the block aligned to
/// eight, as SQLite requires.
const HEADER: usize = 8;
const ALIGN: usize = 8;

fn layout(size: usize) -> Option<Layout> {
    Layout::from_size_align(size.checked_add(HEADER)?, ALIGN).ok()
}

unsafe extern "C" fn x_malloc(size: c_int) -> *mut c_void {
    let Some(layout) = usize::try_from(size).ok().and_then(layout) else {
        return std::ptr::null_mut();
    };
    // SAFETY: the layout's size is at least HEADER, never zero.
    let base = unsafe { alloc(layout) };
    if base.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: the block has room for the header, aligned to eight.
    unsafe {
        (base as *mut usize).write(layout.size() - HEADER);
        base.add(HEADER) as *mut c_void
    }
}

/// The start of the block SQLite's pointer lies in, and its size.
///
/// # Safety
/// `block` must be a pointer that `x_malloc` or `x_realloc` returned.
unsafe fn base_of(block: *mut c_void) -> (*mut u8, usize) {
    // SAFETY: per the contract, the header lies HEADER bytes before `block`.
    unsafe {
        let base = (block as *mut u8).sub(HEADER);
        (base, (base as *const usize).read())
    }
}

unsafe extern "C" fn x_free(block: *mut c_void) {
    if block.is_null() {
        return;
    }
    // SAFETY: SQLite frees only what these methods allocated.
    unsafe {
        let (base, size) = base_of(block);
        dealloc(
            base,
            Layout::from_size_align_unchecked(size + HEADER, ALIGN),
        );
    }
}

unsafe extern "C" fn x_realloc(block: *mut c_void, size: c_int) -> *mut c_void {
    if block.is_null() {
        // SAFETY: as malloc.
        return unsafe { x_malloc(size) };
    }
    let Some(new_layout) = usize::try_from(size).ok().and_then(layout) else {
        return std::ptr::null_mut();
    };
    // SAFETY: SQLite resizes only what these methods allocated; on failure
    // the old block stays valid, as SQLite expects.
    unsafe {
        let (base, old_size) = base_of(block);
        let old_layout = Layout::from_size_align_unchecked(old_size + HEADER, ALIGN);
        let moved = realloc(base, old_layout, new_layout.size());
        if moved.is_null() {
            return std::ptr::null_mut();
        }
        (moved as *mut usize).write(new_layout.size() - HEADER);
        moved.add(HEADER) as *mut c_void
    }
}

unsafe extern "C" fn x_size(block: *mut c_void) -> c_int {
    if block.is_null() {
        return 0;
    }
    // SAFETY: SQLite asks only about what these methods allocated.
    let (_, size) = unsafe { base_of(block) };
    c_int::try_from(size).unwrap_or(c_int::MAX)
}

unsafe extern "C" fn x_roundup(size: c_int) -> c_int {
    // Eight, so that a block SQLite fills to its rounded size keeps the
    // next header aligned; sizes near the limit are left as asked.
    size.checked_add(7).map_or(size, |up| up & !7)
}

unsafe extern "C" fn x_init(_: *mut c_void) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_shutdown(_: *mut c_void) {}

/// Tells SQLite to allocate through Rust's global allocator, once per
/// process. Returns whether SQLite took the methods (false when it had
/// already initialised).
pub(crate) fn install() -> bool {
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    *INSTALLED.get_or_init(|| {
        let methods = ffi::sqlite3_mem_methods {
            xMalloc: Some(x_malloc),
            xFree: Some(x_free),
            xRealloc: Some(x_realloc),
            xSize: Some(x_size),
            xRoundup: Some(x_roundup),
            xInit: Some(x_init),
            xShutdown: Some(x_shutdown),
            pAppData: std::ptr::null_mut(),
        };
        // SAFETY: SQLite copies the methods before it returns; it refuses
        // (SQLITE_MISUSE) once initialised, and then changes nothing.
        let code = unsafe {
            ffi::sqlite3_config(
                ffi::SQLITE_CONFIG_MALLOC,
                &methods as *const ffi::sqlite3_mem_methods,
            )
        };
        if code != ffi::SQLITE_OK {
            tracing::debug!(
                code,
                "SQLite was already initialised: it keeps its own allocator"
            );
        }
        code == ffi::SQLITE_OK
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_keep_their_size_and_contents_through_realloc() {
        // SAFETY: the methods are called as SQLite would call them.
        unsafe {
            let block = x_malloc(13) as *mut u8;
            assert!(!block.is_null());
            assert_eq!(block as usize % ALIGN, 0);
            assert_eq!(x_size(block as *mut c_void), 13);
            for i in 0..13 {
                block.add(i).write(i as u8);
            }
            let grown = x_realloc(block as *mut c_void, 5000) as *mut u8;
            assert_eq!(x_size(grown as *mut c_void), 5000);
            assert_eq!(grown as usize % ALIGN, 0);
            for i in 0..13 {
                assert_eq!(grown.add(i).read(), i as u8);
            }
            let shrunk = x_realloc(grown as *mut c_void, 4) as *mut u8;
            assert_eq!(x_size(shrunk as *mut c_void), 4);
            assert_eq!(shrunk.add(3).read(), 3);
            x_free(shrunk as *mut c_void);
            x_free(std::ptr::null_mut());
            assert!(x_malloc(-1).is_null());
            assert_eq!(x_roundup(13), 16);
            assert_eq!(x_roundup(16), 16);
            assert_eq!(x_roundup(c_int::MAX), c_int::MAX);
        }
    }
}
