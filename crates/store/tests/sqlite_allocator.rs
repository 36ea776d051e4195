//! Once a store is open, SQLite allocates through the program's Rust
//! allocator (mimalloc in the `gloss` binary) instead of the C library's.
//! This test binary registers a counting allocator and checks that SQLite's
//! page cache is paid for through it.

use gloss_store::{Store, StoreOptions};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATED.fetch_add(new_size.saturating_sub(layout.size()), Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[tokio::test]
async fn sqlite_allocates_through_the_rust_allocator() {
    let folder = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", folder.path().join("gloss.db").display());
    let store = Store::open(&url, &StoreOptions::default()).await.unwrap();
    store.migrate().await.unwrap();

    // An in-memory database keeps every page in SQLite's page cache: 200,000
    // rows of 100 bytes are about 20 MB that SQLite allocates, with almost no
    // Rust code running.
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    let before = ALLOCATED.load(Ordering::Relaxed);
    conn.execute_batch(
        "CREATE TABLE t (x TEXT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000)
         INSERT INTO t SELECT printf('%0100d', i) FROM n;",
    )
    .unwrap();
    let allocated = ALLOCATED.load(Ordering::Relaxed) - before;
    assert!(
        allocated > 16_000_000,
        "SQLite's pages should come from the Rust allocator; it gave {allocated} bytes"
    );
    let count: i64 = conn
        .query_row("SELECT count(*) FROM t", [], |row| row.get(0))
        .unwrap();
    assert_eq!(count, 200_000);
    drop(conn);
    drop(store);
}
