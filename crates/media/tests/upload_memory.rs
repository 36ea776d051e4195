//! A 50 MiB upload must go through in a small, fixed amount of memory. This
//! test counts every allocation of the process, so it is alone in its binary.

use bytes::Bytes;
use gloss_media::{MediaKey, MediaStore, UploadLimits};
use sha2::{Digest, Sha256};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = CURRENT.fetch_add(by, Ordering::SeqCst) + by;
    PEAK.fetch_max(now, Ordering::SeqCst);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            grew(layout.size());
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        unsafe { System.dealloc(pointer, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
            grew(new_size);
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const CHUNK: usize = 64 * 1024;
const CHUNKS: usize = 800; // 50 MiB

/// Chunk `index` of the content, made when asked for.
fn chunk(index: usize) -> Bytes {
    let seed = index as u32;
    Bytes::from(
        (0..CHUNK as u32)
            .map(|at| (at.wrapping_mul(2_654_435_761) ^ seed.wrapping_mul(40_503)) as u8)
            .collect::<Vec<u8>>(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_mebibytes_in_little_memory() {
    let dir = tempfile::tempdir().unwrap();
    let media = MediaStore::open(&format!("file://{}", dir.path().display())).unwrap();
    let content =
        futures::stream::iter((0..CHUNKS).map(|index| Ok::<_, std::io::Error>(chunk(index))));

    let before = CURRENT.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    let stored = media
        .put_stream(content, &UploadLimits::default())
        .await
        .unwrap();
    let peak = PEAK.load(Ordering::SeqCst) - before;

    assert_eq!(stored.size, (CHUNK * CHUNKS) as u64);
    let mut hasher = Sha256::new();
    for index in 0..CHUNKS {
        hasher.update(chunk(index));
    }
    assert_eq!(
        stored.key,
        MediaKey::parse(&hex::encode(hasher.finalize())).unwrap()
    );
    assert_eq!(media.size(&stored.key).await.unwrap(), stored.size);
    // A few chunks and buffers, nowhere near the 50 MiB that went through.
    assert!(peak < 8 * 1024 * 1024, "peak {peak} bytes");
}
