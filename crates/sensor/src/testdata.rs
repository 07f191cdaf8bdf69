//! Access to the shared real captures (`../shared/testdata/pcaps` beside the
//! repository) for tests. In a clone without them, every helper prints
//! `skipped: ../shared/testdata not present` and returns `None`, so tests
//! skip instead of failing.

use crate::analyze_path_events;
use palisade_model::Event;
use std::path::{Path, PathBuf};

/// The folder of the shared captures, if present.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/pcaps");
    if dir.join("MANIFEST.tsv").exists() {
        Some(dir)
    } else {
        println!("skipped: ../shared/testdata not present");
        None
    }
}

/// The path of one shared capture (`folder/file`), if present.
pub fn shared_capture(file: &str) -> Option<PathBuf> {
    shared_dir().map(|dir| dir.join(file))
}

/// Every event of one shared capture, analysed on the calling thread.
pub fn shared_events(file: &str) -> Option<Vec<Event>> {
    let path = shared_capture(file)?;
    Some(analyze_path_events(&path).unwrap_or_else(|e| panic!("{file}: {e}")))
}
